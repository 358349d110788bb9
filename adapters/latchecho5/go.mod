module github.com/latchauth/latch/adapters/latchecho5

go 1.26

require (
	github.com/labstack/echo/v5 v5.4.4
	github.com/latchauth/latch v0.1.0
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

replace github.com/latchauth/latch => ../..
