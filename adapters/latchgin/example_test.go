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
)

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

func ExampleRequired() {
	gin.SetMode(gin.ReleaseMode)
	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque})
	if err != nil {
		panic(err)
	}
	defer auth.Close()

	r := gin.New()
	r.GET("/protected", latchgin.Required(auth), func(c *gin.Context) {
		p, _ := latchgin.Principal(c)
		c.JSON(http.StatusOK, gin.H{"logged_in_as": p.Subject})
	})

	tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})
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
	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque},
		latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*account, error) {
			return &account{Name: "Alice (" + p.Subject + ")"}, nil
		}))
	if err != nil {
		panic(err)
	}
	defer auth.Close()

	r := gin.New()
	r.GET("/who_am_i", latchgin.Required(auth), func(c *gin.Context) {
		u, _ := latchgin.User[*account](c)
		c.String(http.StatusOK, u.Name)
	})

	tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})
	get(r, "/who_am_i", tokens.AccessToken)
	// Output: 200 Alice (alice)
}

func ExampleRequire() {
	gin.SetMode(gin.ReleaseMode)
	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque})
	if err != nil {
		panic(err)
	}
	defer auth.Close()
	adminOnly := func(_ *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	}

	r := gin.New()
	r.GET("/admin", latchgin.Require(auth, adminOnly), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"foo": "bar"})
	})

	tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})
	get(r, "/admin", tokens.AccessToken)
	// Output: 403 {"msg":"Admins only!"}
}

// Gin error middleware sees a refusal in c.Errors, after latch has
// answered it; errors.Is matches latch's kinds.
func ExampleMiddleware_errors() {
	gin.SetMode(gin.ReleaseMode)
	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque})
	if err != nil {
		panic(err)
	}
	defer auth.Close()

	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		if err := c.Errors.Last(); err != nil {
			fmt.Println("invalid token:", errors.Is(err, latch.ErrInvalidToken))
		}
	})
	r.GET("/protected", latchgin.Middleware(auth, latch.Guard{}), func(c *gin.Context) {})

	get(r, "/protected", "not-a-token")
	// Output:
	// invalid token: true
	// 401 {"msg":"Malformed token"}
}
