package latchecho5_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// sessionKey stands for LATCH_SESSION_KEY: make one with
// openssl rand -base64 32, and keep it secret.
const sessionKey = "VCeNMHeMu0RMIkuQab1Xbl6sjlS/fgC0uaXp5nK0830="

// get sends GET path to h with a bearer token ("" for none) and prints
// the answer.
func get(h http.Handler, path, token string) {
	r := httptest.NewRequest("GET", path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Printf("%d %s", rec.Code, rec.Body)
}

func ExampleGuard() {
	web := exampleWeb()
	defer web.Core().Close()

	e := echo.New()
	e.GET("/protected", func(c *echo.Context) error {
		p, _ := latchecho5.Principal(c)
		return c.JSON(http.StatusOK, map[string]any{"logged_in_as": p.Subject})
	}, latchecho5.Middleware(web, latchhttp.Required()))

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(e, "/protected", tokens.AccessToken)
	get(e, "/protected", "")
	// Output:
	// 200 {"logged_in_as":"alice"}
	// 401 {"msg":"Missing authorization token"}
}

func ExampleUser() {
	type account struct{ Name string }
	web := exampleWeb(latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*account, error) {
		return &account{Name: "Alice (" + p.Subject + ")"}, nil
	}))
	defer web.Core().Close()

	e := echo.New()
	e.GET("/who_am_i", func(c *echo.Context) error {
		u, _ := latchecho5.User[*account](c)
		return c.String(http.StatusOK, u.Name)
	}, latchecho5.Middleware(web, latchhttp.Required()))

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(e, "/who_am_i", tokens.AccessToken)
	// Output: 200 Alice (alice)
}

func ExampleGuard_check() {
	web := exampleWeb()
	defer web.Core().Close()
	adminOnly := func(_ *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	}

	e := echo.New()
	admin := e.Group("/admin", latchecho5.Middleware(web, latchhttp.Required().With(adminOnly)))
	admin.GET("", func(c *echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"foo": "bar"}) })

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(e, "/admin", tokens.AccessToken)
	// Output: 403 {"msg":"Admins only!"}
}

// With ErrorHandler, handlers return latch's errors as they are and get
// latch's answers; other errors go to echo's handler.
func ExampleErrorHandler() {
	web := exampleWeb()
	defer web.Core().Close()

	e := echo.New()
	e.HTTPErrorHandler = latchecho5.ErrorHandler(web, echo.DefaultHTTPErrorHandler(false))
	e.DELETE("/sessions/:id", func(c *echo.Context) error {
		p, _ := latchecho5.Principal(c)
		if err := web.Core().LogoutSession(c.Request().Context(), p, c.Param("id")); err != nil {
			return err // ErrSessionNotFound: 404
		}
		return c.JSON(http.StatusOK, map[string]any{"msg": "Session revoked"})
	}, latchecho5.Middleware(web, latchhttp.SessionCheck()))

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	r := httptest.NewRequest("DELETE", "/sessions/nope", nil)
	r.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	fmt.Printf("%d %s", rec.Code, rec.Body)
	get(e, "/nowhere", "")
	// Output:
	// 404 {"msg":"Session not found"}
	// 404 {"message":"Not Found"}
}

// The error handler gets an *Error for a refusal, after latch has answered
// it; errors.Is matches latch's kinds, and echo.StatusCode reads the
// status latch answered with.
func ExampleError() {
	web := exampleWeb()
	defer web.Core().Close()

	e := echo.New()
	defaultHandler := echo.DefaultHTTPErrorHandler(false)
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		var le *latchecho5.Error
		if errors.As(err, &le) {
			fmt.Println("status:", echo.StatusCode(err), "invalid token:", errors.Is(err, latch.ErrInvalidToken))
		}
		defaultHandler(c, err) // leaves the committed answer alone
	}
	e.GET("/protected", func(c *echo.Context) error { return nil }, latchecho5.Middleware(web, latchhttp.Required()))

	get(e, "/protected", "not-a-token")
	// Output:
	// status: 401 invalid token: true
	// 401 {"msg":"Malformed token"}
}

// An unrouted path under a guarded group goes through the group's guard,
// unless the instance is made with NoGroupAutoRegister404Routes: then it
// is echo's 404, as on net/http.
func ExampleGuard_group() {
	web := exampleWeb()
	defer web.Core().Close()
	dashboard := func(c *echo.Context) error { return c.String(http.StatusOK, "dashboard\n") }

	byDefault := echo.New()
	byDefault.Group("/admin", latchecho5.Middleware(web, latchhttp.Required())).GET("/dashboard", dashboard)
	get(byDefault, "/admin/nope", "")

	no404Routes := echo.NewWithConfig(echo.Config{NoGroupAutoRegister404Routes: true})
	no404Routes.Group("/admin", latchecho5.Middleware(web, latchhttp.Required())).GET("/dashboard", dashboard)
	get(no404Routes, "/admin/nope", "")
	get(no404Routes, "/admin/dashboard", "")
	// Output:
	// 401 {"msg":"Missing authorization token"}
	// 404 {"message":"Not Found"}
	// 401 {"msg":"Missing authorization token"}
}

// exampleWeb returns latch's HTTP layer over an opaque-mode core, as an
// application sets it up once at startup.
func exampleWeb(opts ...latch.Option) *latchhttp.Auth {
	auth, err := latch.New(context.Background(), latch.Config{SessionKey: sessionKey, Mode: latch.ModeOpaque}, opts...)
	if err != nil {
		panic(err)
	}
	web, err := latchhttp.New(auth, latchhttp.Config{})
	if err != nil {
		panic(err)
	}
	return web
}
