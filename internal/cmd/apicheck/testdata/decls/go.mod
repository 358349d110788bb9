module example.com/decls

go 1.26
