package latchgin_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchgin"
	"github.com/latchauth/latch/internal/adaptertest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// mount serves the table's routes on a gin engine, each behind the
// latchgin function the route names.
func mount(a *latch.Auth, routes []adaptertest.Route) http.Handler {
	r := gin.New()
	answer := func(c *gin.Context) {
		p, pok := latchgin.Principal(c)
		u, uok := latchgin.User[*adaptertest.User](c)
		adaptertest.Answer(c.Writer, c.Request, p, pok, u, uok)
	}
	for _, rt := range routes {
		var guard gin.HandlerFunc
		switch rt.Use {
		case adaptertest.Required:
			guard = latchgin.Required(a)
		case adaptertest.Optional:
			guard = latchgin.Optional(a)
		case adaptertest.FreshRequired:
			guard = latchgin.FreshRequired(a)
		case adaptertest.RefreshRequired:
			guard = latchgin.RefreshRequired(a)
		case adaptertest.SessionRequired:
			guard = latchgin.SessionRequired(a)
		case adaptertest.Require:
			guard = latchgin.Require(a, rt.Guard.Checks...)
		case adaptertest.Middleware:
			guard = latchgin.Middleware(a, rt.Guard)
		case adaptertest.RefreshHandler:
			r.Handle(rt.Method, rt.Path, latchgin.RefreshHandler(a))
			continue
		case adaptertest.RevocationHandler:
			r.Handle(rt.Method, rt.Path, latchgin.RevocationHandler(a))
			continue
		default:
			panic("unknown Use " + string(rt.Use))
		}
		r.Handle(rt.Method, rt.Path, guard, answer)
	}
	return r
}

// TestTable runs the behavioural table: latchgin must answer every case
// exactly as the net/http middleware does.
func TestTable(t *testing.T) { adaptertest.Run(t, adaptertest.Adapter{Name: "gin", Mount: mount}) }

// TestAbort checks what gin's error middleware sees of a refusal: the
// latch error, recorded once, and the chain stopped before the handler.
func TestAbort(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	var seen []error
	var reached bool
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			seen = append(seen, e.Err)
		}
		// Error middleware that answers when nothing was written does
		// not touch latch's answer.
		if !c.Writer.Written() {
			c.JSON(http.StatusTeapot, gin.H{"error": "overwritten"})
		}
	})
	r.GET("/", latchgin.Required(f.Auth), func(*gin.Context) { reached = true })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="latch"` {
		t.Errorf("answer = %d %q, want latch's 401", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if reached {
		t.Error("the handler behind the guard ran")
	}
	if len(seen) != 1 || !errors.Is(seen[0], latch.ErrNoToken) {
		t.Errorf("c.Errors = %v, want one error matching latch.ErrNoToken", seen)
	}
}

// TestAbortWithError checks that a handler's latch error gets latch's
// answer, and any other error a generic 500.
func TestAbortWithError(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	cases := []struct {
		err    error
		status int
		body   string
	}{
		{latch.ErrSessionNotFound, 404, `{"msg":"Session not found"}` + "\n"},
		{errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown), 503, `{"msg":"Service temporarily unavailable"}` + "\n"},
		{errors.New("app: secret detail"), 500, `{"msg":"Internal error"}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			r := gin.New()
			r.GET("/", func(ctx *gin.Context) { latchgin.AbortWithError(ctx, f.Auth, c.err) })
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != c.status || rec.Body.String() != c.body {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, c.status, c.body)
			}
		})
	}
}

// TestBadGuard checks that a guard that cannot work fails at setup.
func TestBadGuard(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	defer func() {
		if recover() == nil {
			t.Error("Middleware accepted an unknown token type")
		}
	}()
	latchgin.Middleware(f.Auth, latch.Guard{Type: "id"})
}
