module example.com/work/sub

go 1.26
