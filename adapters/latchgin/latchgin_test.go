package latchgin_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchgin"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// mount serves the table's routes on a gin engine: guarded routes behind
// latchgin.Guard ending in adaptertest.Handler, endpoints through gin.WrapH.
func mount(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
	r := gin.New()
	for _, rt := range routes {
		if rt.Use != adaptertest.Guard {
			r.Handle(rt.Method, rt.Path, gin.WrapH(adaptertest.Endpoint(a, rt.Use, nil)))
			continue
		}
		handle := adaptertest.Handler(a, rt.App)
		answer := func(c *gin.Context) {
			p, pok := latchgin.Principal(c)
			u, uok := latchgin.User[*adaptertest.User](c)
			handle(c.Writer, c.Request, p, pok, u, uok)
		}
		guard := latchgin.Middleware(a, rt.Guard)
		switch rt.Via {
		case adaptertest.InGroup:
			r.Group(rt.Group, guard).Handle(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
		case adaptertest.GroupUse:
			g := r.Group(rt.Group)
			g.Use(guard)
			g.Handle(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
		default:
			r.Handle(rt.Method, rt.Path, guard, answer)
		}
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
	r.GET("/", latchgin.Middleware(f.Web, latchhttp.Required()), func(*gin.Context) { reached = true })
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
// whole answer (status, WWW-Authenticate, Retry-After, Cache-Control,
// body), any other error a generic 500, and nil a 500 too, recorded as an
// error rather than gin's panic.
func TestAbortWithError(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	cases := []struct {
		name       string
		err        error
		status     int
		authn      string
		retryAfter string
		body       string
	}{
		{"session not found", latch.ErrSessionNotFound, 404, "", "", `{"msg":"Session not found"}`},
		{"store down", errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown), 503, "", "5", `{"msg":"Service temporarily unavailable"}`},
		{"expired", latch.ErrTokenExpired, 401, `Bearer realm="latch", error="invalid_token", error_description="Token has expired"`, "",
			`{"code":"dave","err":"I can't let you do that"}`},
		{"forbidden", latch.Forbidden("Admins only!"), 403, `Bearer realm="latch", error="insufficient_scope", error_description="Admins only!"`, "",
			`{"msg":"Admins only!"}`},
		{"not latch's", errors.New("app: secret detail"), 500, "", "", `{"msg":"Internal error"}`},
		{"nil", nil, 500, "", "", `{"msg":"Internal error"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var recorded []error
			r := gin.New()
			r.GET("/", func(ctx *gin.Context) {
				latchgin.AbortWithError(ctx, f.Web, c.err)
				for _, e := range ctx.Errors {
					recorded = append(recorded, e.Err)
				}
			})
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			h := rec.Result().Header
			if rec.Code != c.status || rec.Body.String() != c.body+"\n" {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, c.status, c.body)
			}
			if got := h.Get("WWW-Authenticate"); got != c.authn {
				t.Errorf("WWW-Authenticate = %q, want %q", got, c.authn)
			}
			if got := h.Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, c.retryAfter)
			}
			if got := h.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if len(recorded) != 1 || recorded[0] == nil || (c.err != nil && !errors.Is(recorded[0], c.err)) {
				t.Errorf("c.Errors = %v, want the one error answered", recorded)
			}
		})
	}
}

// TestAbortWithErrorAfterWrite checks that an answer already begun is
// left alone: the error is recorded and the chain aborted, and latch's
// answer is not appended.
func TestAbortWithErrorAfterWrite(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	var recorded []error
	var reached bool
	r := gin.New()
	r.GET("/", func(c *gin.Context) {
		c.String(http.StatusOK, "partial")
		latchgin.AbortWithError(c, f.Web, latch.ErrUnavailable)
		for _, e := range c.Errors {
			recorded = append(recorded, e.Err)
		}
	}, func(*gin.Context) { reached = true })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "partial" || rec.Header().Get("Retry-After") != "" {
		t.Errorf("answer = %d %q (Retry-After %q), want the handler's 200 partial alone",
			rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	if len(recorded) != 1 || !errors.Is(recorded[0], latch.ErrUnavailable) {
		t.Errorf("c.Errors = %v, want ErrUnavailable", recorded)
	}
	if reached {
		t.Error("the chain was not aborted")
	}
}

// TestGroupUnknownPath pins what gin answers for a path nobody routed
// under a guarded group: gin's own 404, token or not, as net/http does
// (gin runs a group's middleware only on the group's routes).
func TestGroupUnknownPath(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	r := gin.New()
	r.Group("/admin", latchgin.Middleware(f.Web, latchhttp.Required().With(adaptertest.AdminOnly))).GET("/dashboard", func(*gin.Context) {})
	for _, tok := range []string{"", f.Test.AccessToken} {
		req := httptest.NewRequest("GET", "/admin/nope", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || rec.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("token %t: %d %q, want gin's 404", tok != "", rec.Code, rec.Body)
		}
	}
}

// TestBadGuard checks that a guard that cannot work fails at setup.
func TestBadGuard(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	defer func() {
		if recover() == nil {
			t.Error("Guard accepted an unknown token type")
		}
	}()
	latchgin.Middleware(f.Web, latchhttp.Guard{Type: "id"})
}

// TestFromGinContext pins what docs/adapters.md warns of: latch.FromContext
// on the *gin.Context itself finds the principal only when the engine's
// ContextWithFallback is set; Principal(c) finds it either way.
func TestFromGinContext(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	for _, fallback := range []bool{false, true} {
		var viaGin, viaPrincipal bool
		r := gin.New()
		r.ContextWithFallback = fallback
		r.GET("/", latchgin.Middleware(f.Web, latchhttp.Required()), func(c *gin.Context) {
			_, viaGin = latch.FromContext(c)
			_, viaPrincipal = latchgin.Principal(c)
		})
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+f.Test.AccessToken)
		r.ServeHTTP(httptest.NewRecorder(), req)
		if viaGin != fallback || !viaPrincipal {
			t.Errorf("ContextWithFallback %t: latch.FromContext(c) ok = %t, latchgin.Principal(c) ok = %t", fallback, viaGin, viaPrincipal)
		}
	}
}
