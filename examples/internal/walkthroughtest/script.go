// Package walkthroughtest is the scripted walkthrough that every port of
// the seed example answers alike: login, protected, who_am_i, claims,
// optionally_protected, admin, refresh and its reuse rules, sessions,
// logout, revocation, the expired-token hook, a deleted user, cookies with
// CSRF, a store that goes down, and the router's own 404 and 405.
//
// RunScript plays it against an example in every mode, behind a real HTTP
// server, and compares every answer (status, headers but Date and
// Content-Length, body) with transcript.txt: examples/seed's answers, with
// tokens, session ids and cookie values replaced by "*", and OPTIONS left
// out of Allow (echo's router lists it, and answers OPTIONS itself). To regenerate it,
// run the script against examples/seed with -update-transcript (see
// docs/adapters.md) and review the diff.
package walkthroughtest

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store/memstore"
)

// Target is one example's server as the script drives it.
type Target struct {
	Handler http.Handler
	// RemoveUser deletes a user of the example's user table by subject.
	RemoveUser func(id string)
	Close      func() error
}

// NewTarget builds an example's server for cfg and httpCfg, with its data
// directory in dataDir; opts come after the example's own latch options.
type NewTarget func(cfg latch.Config, httpCfg latchhttp.Config, dataDir string, opts ...latch.Option) (Target, error)

//go:embed transcript.txt
var transcript string

var update = flag.Bool("update-transcript", false, "rewrite transcript.txt from this run's answers")

// epoch is where the script's clock starts, so that the times in answers
// are the same in every run.
var epoch = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// RunScript plays the walkthrough against newTarget in every mode.
func RunScript(t *testing.T, newTarget NewTarget) {
	var b strings.Builder
	for _, mode := range []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid} {
		for _, ph := range phases {
			t.Run(string(mode)+"/"+ph.name, func(t *testing.T) {
				p := start(t, newTarget, mode, ph, &b)
				ph.play(p)
			})
		}
	}
	if t.Failed() {
		return
	}
	if *update {
		_, file, _, _ := runtime.Caller(0)
		if err := os.WriteFile(filepath.Join(filepath.Dir(file), "transcript.txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if b.String() != transcript {
		t.Errorf("the answers differ from examples/seed's (transcript.txt):\n%s", lineDiff(transcript, b.String()))
	}
}

// phase is a part of the script played on a fresh server.
type phase struct {
	name string
	edit func(*latch.Config, *latchhttp.Config)
	// flaky: the store can be taken down (player.store).
	flaky bool
	play  func(p *player)
}

// player plays a phase against one server.
type player struct {
	t      *testing.T
	mode   latch.Mode
	target Target
	srv    *httptest.Server
	client *http.Client
	store  *storetest.Probe
	out    *strings.Builder
	prefix string

	mu  sync.Mutex
	now time.Time
}

func start(t *testing.T, newTarget NewTarget, mode latch.Mode, ph phase, out *strings.Builder) *player {
	t.Helper()
	p := &player{t: t, mode: mode, out: out, prefix: string(mode) + " / " + ph.name + " / ", now: epoch}
	cfg, httpCfg := latch.Config{Mode: mode}, latchhttp.Config{}
	if ph.edit != nil {
		ph.edit(&cfg, &httpCfg)
	}
	opts := []latch.Option{latch.WithClock(p.clock), latch.WithLogger(discard)}
	if ph.flaky {
		p.store = &storetest.Probe{Store: memstore.New()}
		opts = append(opts, latch.WithStore(p.store))
	}
	tg, err := newTarget(cfg, httpCfg, t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("%s: %v", mode, err)
	}
	p.target = tg
	p.srv = httptest.NewServer(tg.Handler)
	p.client = &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(func() {
		p.srv.Close()
		if err := tg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func (p *player) clock() time.Time { p.mu.Lock(); defer p.mu.Unlock(); return p.now }

func (p *player) advance(d time.Duration) { p.mu.Lock(); defer p.mu.Unlock(); p.now = p.now.Add(d) }

// req is one request of the script: token goes in an Authorization
// header, a body is JSON unless header says otherwise.
type req struct {
	method, path string
	token        string
	body         string
	header       map[string]string
}

// answer is what the server answered, normalized.
type answer struct {
	status int
	header http.Header
	body   []byte
	text   string // as the transcript holds it
}

// do sends r, checks the status and records the answer as step.
func (p *player) do(step string, r req, status int) *answer {
	p.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, p.srv.URL+r.path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := p.client.Do(hr)
	if err != nil {
		p.t.Fatalf("%s: %v", step, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("%s: reading the body: %v", step, err)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, body: b}
	a.text = normalize(a)
	fmt.Fprintf(p.out, "== %s%s\n%s\n", p.prefix, step, a.text)
	if a.status != status {
		p.t.Errorf("%s: status %d, want %d (body %s)", step, a.status, status, b)
	}
	return a
}

// byMode returns opaque in opaque mode, else jwt: access JWTs verify
// without the store.
func (p *player) byMode(opaque, jwt int) int {
	if p.mode == latch.ModeOpaque {
		return opaque
	}
	return jwt
}

// tokens decodes a token answer.
func (p *player) tokens(a *answer) (access, refresh string) {
	p.t.Helper()
	var tk struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(a.body, &tk); err != nil || tk.AccessToken == "" || tk.RefreshToken == "" {
		p.t.Fatalf("token answer %s: %v", a.body, err)
	}
	return tk.AccessToken, tk.RefreshToken
}

// login logs username in on device and returns its tokens.
func (p *player) login(step, username, device string) (access, refresh string) {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": username, "device": device})
	return p.tokens(p.do(step, req{method: "POST", path: "/login", body: string(body)}, 200))
}

// sessionID returns the id of the session labelled device in the list
// token's user gets.
func (p *player) sessionID(token, device string) string {
	p.t.Helper()
	hr, _ := http.NewRequest("GET", p.srv.URL+"/sessions", nil)
	hr.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(hr)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct {
		Sessions []latch.SessionInfo `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		p.t.Fatal(err)
	}
	for _, s := range l.Sessions {
		if s.Device.Label == device {
			return s.ID
		}
	}
	p.t.Fatalf("no session labelled %q", device)
	return ""
}

// normalize renders an answer for the transcript: the status, the headers
// but Date and Content-Length in order, and the body, with token and
// session id values replaced by "*".
func normalize(a *answer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %d\n", a.status)
	keys := make([]string, 0, len(a.header))
	for k := range a.header {
		if k != "Date" && k != "Content-Length" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range a.header[k] {
			if k == "Allow" {
				// echo lists OPTIONS, which its router answers itself.
				v = strings.TrimPrefix(v, "OPTIONS, ")
			}
			if k == "Set-Cookie" {
				if c, err := http.ParseSetCookie(v); err == nil && c.Value != "" {
					c.Value = "*"
					v = c.String()
				}
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	body := string(a.body)
	var v any
	if json.Unmarshal(a.body, &v) == nil && mask(v) {
		out, _ := json.Marshal(v)
		body = string(out) + " (masked)\n"
	}
	fmt.Fprintf(&b, "body: %s", body)
	return b.String()
}

// mask replaces the values of token and id fields in v by "*", and
// reports whether it did. Only non-empty strings are masked: an empty
// token or id, or one of another type, stays as it is, so that it differs
// from the transcript's "*".
func mask(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && s != "" && (k == "access_token" || k == "refresh_token" || k == "id") {
				v[k] = "*"
				changed = true
				continue
			}
			changed = mask(x) || changed
		}
	case []any:
		for _, x := range v {
			changed = mask(x) || changed
		}
	}
	return changed
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			// The first difference, with the step it belongs to.
			step := ""
			for j := i; j >= 0 && j < len(wl); j-- {
				if strings.HasPrefix(wl[j], "== ") {
					step = wl[j]
					break
				}
			}
			fmt.Fprintf(&b, "first difference at line %d, in %s\n- %s\n+ %s\n", i+1, step, w, g)
			break
		}
	}
	return b.String()
}

// newJar returns an empty cookie jar.
func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}

// cookie returns the value of the jar's cookie name for the server.
func (p *player) cookie(name string) string {
	u, _ := url.Parse(p.srv.URL)
	for _, c := range p.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
