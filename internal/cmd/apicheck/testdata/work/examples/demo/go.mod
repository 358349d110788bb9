module example.com/work/examples/demo

go 1.26
