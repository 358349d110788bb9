package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

var modes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// WWW-Authenticate challenges.
const realm = `Bearer realm="latch"`

func invalidToken(desc string) string {
	return `Bearer realm="latch", error="invalid_token", error_description="` + desc + `"`
}

// Bodies that several tests expect.
const (
	missingToken = `{"msg":"Missing authorization token"}`
	sessionEnded = `{"msg":"Session has ended"}`
	daveBody     = `{"code":"dave","err":"I can't let you do that"}`
)

// clock is a settable clock for latch.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// config is what a test configures: latch's core settings, embedded so
// that an edit reads c.SessionCheck, and those of its HTTP layer.
type config struct {
	latch.Config
	HTTP latchhttp.Config
}

// harness is one app, on an example's routes, behind a real HTTP server
// with the limits of the one the examples run (walkthrough.NewHTTPServer),
// as a user with curl would reach it, with a clock the test moves and the
// app's log captured.
type harness struct {
	t      testing.TB
	mode   latch.Mode
	app    *walkthrough.App
	srv    *httptest.Server
	client *http.Client
	clock  *clock
	logs   *walkthroughtest.SyncBuffer
	dir    string
	// issued holds every token the server handed out, in a JSON answer
	// or a cookie (CSRF values too), so that cleanup can check that none
	// of them was logged.
	mu     sync.Mutex
	issued map[string]bool
}

// newHarness starts the app in mode, with edit applied to its Config and
// a fresh data directory; opts follow the harness's own.
func newHarness(t testing.TB, routes Routes, mode latch.Mode, edit func(*config), opts ...latch.Option) *harness {
	t.Helper()
	h := &harness{t: t, mode: mode, clock: &clock{t: time.Now()}, logs: &walkthroughtest.SyncBuffer{}, dir: t.TempDir(),
		issued: map[string]bool{}}
	cfg := config{Config: latch.Config{Mode: mode}}
	if edit != nil {
		edit(&cfg)
	}
	base := []latch.Option{
		latch.WithClock(h.clock.Now),
		latch.WithLogger(slog.New(slog.NewTextHandler(h.logs, nil))),
	}
	a, err := walkthrough.New(context.Background(), cfg.Config, cfg.HTTP, h.dir, append(base, opts...)...)
	if err != nil {
		t.Fatalf("walkthrough.New(%s): %v", mode, err)
	}
	h.app = a
	h.srv = httptest.NewUnstartedServer(nil)
	h.srv.Config = walkthrough.NewHTTPServer(routes(a), slog.New(slog.NewTextHandler(h.logs, nil)))
	h.srv.Start()
	h.client = &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(func() {
		h.srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		h.checkLogs()
	})
	return h
}

// checkLogs fails the test if the log holds a token that was issued.
func (h *harness) checkLogs() {
	logs := h.logs.String()
	for _, tok := range h.issuedTokens() {
		if strings.Contains(logs, tok) {
			h.t.Errorf("the log contains an issued token")
			return
		}
	}
}

// remember registers tokens the server handed out; empty ones (a cleared
// cookie's) are skipped.
func (h *harness) remember(toks ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, tok := range toks {
		if tok != "" {
			h.issued[tok] = true
		}
	}
}

// rememberAnswer registers every token r hands out: the values of the
// cookies it sets, and the tokens of a JSON token answer.
func (h *harness) rememberAnswer(r *response) {
	for _, line := range r.header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil {
			h.remember(c.Value)
		}
	}
	var tk tokens
	if json.Unmarshal(r.body, &tk) == nil {
		h.remember(tk.AccessToken, tk.RefreshToken)
	}
}

// issuedTokens returns the tokens registered so far.
func (h *harness) issuedTokens() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.issued))
	for tok := range h.issued {
		out = append(out, tok)
	}
	return out
}

// response is what the server answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request describes one request: token goes in an Authorization header.
type request struct {
	method, path string
	token        string
	body         string
	header       map[string]string
}

// do sends req with the harness's client and registers the tokens the
// answer hands out.
func (h *harness) do(t *testing.T, req request) *response {
	t.Helper()
	r := send(t, h.client, h.srv.URL, req)
	h.rememberAnswer(r)
	return r
}

// send sends req with c and fails t if no answer comes.
func send(t *testing.T, c *http.Client, base string, req request) *response {
	t.Helper()
	r, err := trySend(c, base, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return r
}

// trySend sends req with c, returning a transport error (a hang past the
// client's timeout among them) instead of failing.
func trySend(c *http.Client, base string, req request) (*response, error) {
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r, err := http.NewRequest(req.method, base+req.path, body)
	if err != nil {
		return nil, err
	}
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	resp, err := c.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// get, post and del are do for the common shapes.
func (h *harness) get(t *testing.T, path, token string) *response {
	t.Helper()
	return h.do(t, request{method: "GET", path: path, token: token})
}

func (h *harness) post(t *testing.T, path, token string) *response {
	t.Helper()
	return h.do(t, request{method: "POST", path: path, token: token})
}

func (h *harness) del(t *testing.T, path, token string) *response {
	t.Helper()
	return h.do(t, request{method: "DELETE", path: path, token: token})
}

// want is an expected answer: status, the exact WWW-Authenticate ("" for
// none) and the exact JSON body ("" to skip the body).
type want struct {
	status int
	authn  string
	body   string
}

// check compares r with w; every answer must be JSON.
func (r *response) check(t *testing.T, w want) {
	t.Helper()
	if r.status != w.status {
		t.Errorf("status = %d, want %d (body %s)", r.status, w.status, redactTokens(string(r.body)))
	}
	if got := r.header.Get("WWW-Authenticate"); got != w.authn {
		t.Errorf("WWW-Authenticate = %q, want %q", got, w.authn)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if w.body == "" {
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, r.body); err != nil {
		t.Errorf("body %q is not JSON: %v", r.body, err)
		return
	}
	if compact.String() != w.body {
		t.Errorf("body = %s, want %s", redactTokens(compact.String()), w.body)
	}
}

// tokenField matches the tokens of a token answer.
var tokenField = regexp.MustCompile(`"(access_token|refresh_token)":\s*"[^"]*"`)

// redactTokens hides the tokens of a token answer, for failure messages:
// tokens are never printed.
func redactTokens(body string) string { return tokenField.ReplaceAllString(body, `"$1":"[redacted]"`) }

// tokens is the JSON of a login or refresh answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// decodeTokens reads r as a token answer and remembers the tokens.
func (h *harness) decodeTokens(t *testing.T, r *response) tokens {
	t.Helper()
	r.check(t, want{status: 200})
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatalf("token answer %s: %v", redactTokens(string(r.body)), err)
	}
	h.remember(tk.AccessToken, tk.RefreshToken)
	if tk.AccessToken == "" || tk.RefreshToken == "" {
		t.Fatalf("token answer %s lacks a token", redactTokens(string(r.body)))
	}
	return tk
}

// login logs username in on a device labelled device.
func (h *harness) login(t *testing.T, username, device string) tokens {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": username, "device": device})
	return h.decodeTokens(t, h.do(t, request{method: "POST", path: "/login", body: string(body)}))
}

// refresh spends a refresh token at POST /refresh.
func (h *harness) refresh(t *testing.T, refreshToken string) *response {
	t.Helper()
	return h.post(t, "/refresh", refreshToken)
}

// sessionList is the JSON of GET /sessions.
type sessionList struct {
	Sessions []latch.SessionInfo `json:"sessions"`
}

// sessions lists the sessions of token's user.
func (h *harness) sessions(t *testing.T, token string) []latch.SessionInfo {
	t.Helper()
	r := h.get(t, "/sessions", token)
	r.check(t, want{status: 200})
	var l sessionList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("GET /sessions: %s: %v", r.body, err)
	}
	return l.Sessions
}

// sessionID returns the id of the session of token's user labelled
// device.
func (h *harness) sessionID(t *testing.T, token, device string) string {
	t.Helper()
	for _, s := range h.sessions(t, token) {
		if s.Device.Label == device {
			return s.ID
		}
	}
	t.Fatalf("no session labelled %q", device)
	return ""
}

// loggedInAs is the body of /protected for a subject.
func loggedInAs(subject string) string { return `{"logged_in_as":"` + subject + `"}` }

// listed decodes an answer of GET /sessions, which must be a 200.
func listed(t *testing.T, r *response) []latch.SessionInfo {
	t.Helper()
	r.check(t, want{status: 200})
	var l sessionList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("GET /sessions: %s: %v", r.body, err)
	}
	return l.Sessions
}
