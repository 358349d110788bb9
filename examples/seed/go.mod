module github.com/latchauth/latch/examples/seed

go 1.26

require github.com/latchauth/latch v0.0.0-00010101000000-000000000000

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

replace github.com/latchauth/latch => ../..
