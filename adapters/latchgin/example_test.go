package latchgin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchgin"
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

// newWeb returns latch's HTTP layer over an opaque-mode core, as an
// application sets it up once at startup.
func newWeb(opts ...latch.Option) *latchhttp.Auth {
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

func ExampleGuard() {
	gin.SetMode(gin.ReleaseMode)
	web := newWeb()
	defer web.Core().Close()

	r := gin.New()
	r.GET("/protected", latchgin.Middleware(web, latchhttp.Required()), func(c *gin.Context) {
		p, _ := latchgin.Principal(c)
		c.JSON(http.StatusOK, gin.H{"logged_in_as": p.Subject})
	})

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(r, "/protected", tokens.AccessToken)
	fmt.Println()
	get(r, "/protected", "")
	// Output:
	// 200 {"logged_in_as":"alice"}
	// 401 {"msg":"Missing authorization token"}
}

func ExampleUser() {
	gin.SetMode(gin.ReleaseMode)
	type account struct{ Name string }
	web := newWeb(latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*account, error) {
		return &account{Name: "Alice (" + p.Subject + ")"}, nil
	}))
	defer web.Core().Close()

	r := gin.New()
	r.GET("/who_am_i", latchgin.Middleware(web, latchhttp.Required()), func(c *gin.Context) {
		u, _ := latchgin.User[*account](c)
		c.String(http.StatusOK, u.Name)
	})

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(r, "/who_am_i", tokens.AccessToken)
	// Output: 200 Alice (alice)
}

// A guard with a check of the application's own, on a group.
func ExampleGuard_check() {
	gin.SetMode(gin.ReleaseMode)
	web := newWeb()
	defer web.Core().Close()
	adminOnly := func(_ *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	}

	r := gin.New()
	admin := r.Group("/admin", latchgin.Middleware(web, latchhttp.Required().With(adminOnly)))
	admin.GET("/dashboard", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"foo": "bar"}) })

	tokens, _ := web.Core().Login(context.Background(), "alice", latch.LoginOptions{})
	get(r, "/admin/dashboard", tokens.AccessToken)
	// Output: 403 {"msg":"Admins only!"}
}

// Gin error middleware sees a refusal in c.Errors, after latch has
// answered it; errors.Is matches latch's kinds.
func ExampleGuard_errors() {
	gin.SetMode(gin.ReleaseMode)
	web := newWeb()
	defer web.Core().Close()

	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		if err := c.Errors.Last(); err != nil {
			fmt.Println("invalid token:", errors.Is(err, latch.ErrInvalidToken))
		}
	})
	r.GET("/protected", latchgin.Middleware(web, latchhttp.Required()), func(c *gin.Context) {})

	get(r, "/protected", "not-a-token")
	// Output:
	// invalid token: true
	// 401 {"msg":"Malformed token"}
}
