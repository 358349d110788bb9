module example.com/work/internal/tool

go 1.26
