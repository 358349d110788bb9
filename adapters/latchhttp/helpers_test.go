package latchhttp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/internal/leaktest"
)

// TestMain scans every log line and error of the tests for the tokens
// latch issues (package leaktest).
func TestMain(m *testing.M) { leaktest.Main(m, authtest.Keys()...) }

var (
	modes = authtest.Modes
	users = authtest.Users
	bg    = context.Background()
)

type user = authtest.User

// env is an authtest.Env served over HTTP by web.
type env struct {
	*authtest.Env
	web *latchhttp.Auth
}

// newEnv returns an env in mode; edit, if not nil, changes the core's and
// the HTTP layer's configuration.
func newEnv(t testing.TB, mode latch.Mode, edit func(*latch.Config, *latchhttp.Config), opts ...latch.Option) *env {
	t.Helper()
	var hc latchhttp.Config
	e := &env{Env: authtest.New(t, mode, func(c *latch.Config) {
		if edit != nil {
			edit(c, &hc)
		}
	}, opts...)}
	var err error
	if e.web, err = latchhttp.New(e.Auth, hc); err != nil {
		t.Fatalf("latchhttp.New: %v", err)
	}
	return e
}

// locations is an edit for newEnv that sets the token locations.
func locations(locs ...latchhttp.Location) func(*latch.Config, *latchhttp.Config) {
	return func(_ *latch.Config, h *latchhttp.Config) { h.Locations = locs }
}

// sessionCheck is an edit for newEnv that sets Config.SessionCheck.
func sessionCheck(on bool) func(*latch.Config, *latchhttp.Config) {
	return func(c *latch.Config, _ *latchhttp.Config) { c.SessionCheck = on }
}

// handler is a protected test app: every route answers with what latch put
// in the context.
func (e *env) handler() http.Handler {
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := latch.FromContext(r.Context())
		out := map[string]any{"anonymous": !ok}
		if ok {
			u, _ := latch.UserFrom[*user](r.Context())
			out["sub"], out["sid"], out["fresh"], out["type"] = p.Subject, p.SessionID, p.Fresh, string(p.Type)
			out["foo"], out["user"] = p.Claims["foo"], u.Name
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	mux := http.NewServeMux()
	mux.Handle("/protected", e.web.Middleware(latchhttp.Required())(who))
	mux.Handle("/optional", e.web.Middleware(latchhttp.Optional())(who))
	mux.Handle("/fresh", e.web.Middleware(latchhttp.Fresh())(who))
	mux.Handle("/admin", e.web.Middleware(latchhttp.Required().With(adminOnly))(who))
	mux.Handle("/refresh-only", e.web.Middleware(latchhttp.RefreshToken())(who))
	mux.Handle("/sessions", e.web.Middleware(latchhttp.SessionCheck())(who))
	mux.Handle("POST /refresh", e.web.RefreshHandler())
	return mux
}

// adminOnly is the walkthrough's admin_required.
func adminOnly(_ *http.Request, p *latch.Principal) error {
	if p.Claims["is_administrator"] == true {
		return nil
	}
	return latch.Forbidden("Admins only!")
}

// do serves one request and returns the recorder.
func do(h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func bodyMap(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body.String(), err)
	}
	return m
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

const (
	realm       = `Bearer realm="latch"`
	invalidTok  = `Bearer realm="latch", error="invalid_token", error_description="`
	forbiddenTo = `Bearer realm="latch", error="insufficient_scope", error_description="`
)

type want struct {
	status int
	authn  string // WWW-Authenticate
	msg    string // body "msg"; "" to skip
}

func check(t *testing.T, got *resp, wt want) {
	t.Helper()
	if got.status != wt.status {
		t.Errorf("status = %d, want %d (body %s)", got.status, wt.status, got.body)
	}
	if got.authn != wt.authn {
		t.Errorf("WWW-Authenticate = %q, want %q", got.authn, wt.authn)
	}
	if wt.msg != "" && got.msg != wt.msg {
		t.Errorf("msg = %q, want %q (body %s)", got.msg, wt.msg, got.body)
	}
}

type resp struct {
	status int
	authn  string
	msg    string
	body   string
	json   map[string]any
}

func call(t *testing.T, e *env, method, path string, hdr map[string]string, body string) *resp {
	t.Helper()
	w := do(e.handler(), method, path, hdr, body)
	r := &resp{status: w.Code, authn: w.Header().Get("WWW-Authenticate"), body: w.Body.String()}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	r.json = bodyMap(t, w)
	r.msg, _ = r.json["msg"].(string)
	return r
}

// introspectionSecret is a client secret for the introspection tests: 32
// bytes, with characters that form encoding changes.
const introspectionSecret = "s3cr+t/with=chars&more-0123456789"

// introspect posts form to h as the client id:secret (Basic, each part
// form-encoded when encode is set).
func introspect(h http.Handler, id, secret, form string, encode bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/introspect", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if encode {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
