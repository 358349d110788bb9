// Package adaptertest is the behavioural table that every HTTP adapter of
// latch passes alike: the net/http middleware in the core, latchgin,
// latchecho5 and latchecho. Each case is a request to one of Routes after
// a Setup (a clock moved past expiry, a session ended, the store down, a
// step-up or a "log in as" through the routes), and the answer it
// expects: status, WWW-Authenticate, Retry-After, body and cookies set.
//
// Run serves every case through the reference (net/http) and through the
// adapter under test, each on its own fresh Fixture, and fails on any
// difference between them, in any header sent (as it was when the status
// was written) or byte of the body, as well as on any difference from the
// expected answer. It also compares each answer
// with answers.txt, the full answers of the reference, so that adapters
// tested in different modules are held to the same bytes: regenerate it
// with
//
//	go test ./internal/adaptertest -update
//
// and review the diff.
package adaptertest

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Adapter is an HTTP adapter under test.
type Adapter struct {
	Name string
	// Mount serves routes on the adapter's framework: a route of Use
	// Guard behind the adapter's guard for Route.Guard, ending in a
	// handler that calls Handler(a, Route.App) with what the adapter's
	// getters return; an endpoint as Endpoint returns it.
	Mount func(a *latchhttp.Auth, routes []Route) http.Handler
}

//go:embed answers.txt
var golden string

var update = flag.Bool("update", false, "rewrite answers.txt from the net/http answers")

// Run runs the table against ad and the net/http reference, in every mode.
func Run(t *testing.T, ad Adapter) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{} // golden key -> answer of ad
	// t.Run returns when the parallel modes are done, reporting whether
	// every case passed.
	passed := t.Run("table", func(t *testing.T) {
		for _, mode := range Modes {
			t.Run(string(mode), func(t *testing.T) {
				t.Parallel()
				for _, c := range Cases {
					t.Run(c.Name, func(t *testing.T) {
						ref := serve(t, NetHTTP, mode, c)
						res := ref
						if ad.Name != NetHTTP.Name {
							res = serve(t, ad, mode, c)
							if d := diff(ref, res); d != "" {
								t.Errorf("%s answers differently from net/http:\n%s", ad.Name, d)
							}
						}
						check(t, ad.Name, res, c.want(mode))
						mu.Lock()
						got[key(mode, c)] = res.String()
						mu.Unlock()
					})
				}
			})
		}
	})
	t.Run("answers.txt", func(t *testing.T) {
		if !passed {
			// The failures above say what is wrong; a diff of every
			// answer would only repeat them, and -update must not pin
			// answers that fail their expectations.
			t.Skip("the table failed: answers.txt is neither compared nor rewritten")
		}
		var b strings.Builder
		for _, mode := range Modes {
			for _, c := range Cases {
				ans, ok := got[key(mode, c)]
				if !ok {
					t.Skip("not every case ran (-run?): nothing whole to compare")
				}
				fmt.Fprintf(&b, "== %s\n%s\n", key(mode, c), ans)
			}
		}
		if *update && ad.Name == NetHTTP.Name {
			_, file, _, _ := runtime.Caller(0)
			if err := os.WriteFile(filepath.Join(filepath.Dir(file), "answers.txt"), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if b.String() != golden {
			t.Errorf("%s: answers differ from answers.txt (go test ./internal/adaptertest -update regenerates it from net/http):\n%s",
				ad.Name, lineDiff(golden, b.String()))
		}
	})
}

func key(mode latch.Mode, c Case) string { return string(mode) + " / " + c.Name }

// result is an answer with what differs between runs taken out: token
// values in bodies and cookies.
type result struct {
	status  int
	header  http.Header // Set-Cookie values replaced by "*"
	body    string
	cookies []string
}

// String is the answer as answers.txt holds it.
func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %d\n", r.status)
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range r.header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "body: %s", r.body)
	return b.String()
}

// serve builds a fresh fixture in mode, mounts Routes on ad, runs c's
// setup and request, and returns the answer.
func serve(t *testing.T, ad Adapter, mode latch.Mode, c Case) result {
	t.Helper()
	f := NewFixture(t, mode)
	h := ad.Mount(f.Web, Routes)
	f.handler = h
	if c.Setup != nil {
		c.Setup(t, f)
	}
	r := c.Request(f)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	// The headers as sent: those set when the status was written, not the
	// recorder's live map, which also holds any set afterwards (that
	// net/http drops and a writer that delays WriteHeader, like gin's,
	// sends).
	sent := rec.Result()
	res := result{status: sent.StatusCode, header: sent.Header.Clone(), body: normalizeBody(rec.Body.Bytes())}
	if vs := res.header.Values("Set-Cookie"); len(vs) > 0 {
		res.header.Del("Set-Cookie")
		for _, v := range vs {
			c, err := http.ParseSetCookie(v)
			if err != nil {
				t.Fatalf("%s: Set-Cookie %q: %v", ad.Name, v, err)
			}
			res.cookies = append(res.cookies, cookieSummary(c))
			if c.Value != "" {
				c.Value = "*"
			}
			res.header.Add("Set-Cookie", c.String())
		}
	}
	return res
}

// normalizeBody replaces the tokens of a token answer, and the session
// and token ids of an introspection answer, by "*": only non-empty
// strings, so that an empty or absent one, or one of another type, still
// shows (and fails the expected body). Other bodies are kept byte for
// byte.
func normalizeBody(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return string(b)
	}
	changed := false
	for _, k := range []string{"access_token", "refresh_token", "sid", "jti"} {
		if s, ok := m[k].(string); ok && s != "" {
			m[k] = "*"
			changed = true
		}
	}
	if !changed {
		return string(b)
	}
	out, _ := json.Marshal(m)
	return string(out) + "\n"
}

// cookieSummary is a cookie's name and attributes, without its value and
// its expiry date, which depends on the clock.
func cookieSummary(c *http.Cookie) string {
	s := []string{c.Name}
	if c.Path != "" {
		s = append(s, "Path="+c.Path)
	}
	if c.Domain != "" {
		s = append(s, "Domain="+c.Domain)
	}
	if c.MaxAge != 0 {
		s = append(s, fmt.Sprintf("Max-Age=%d", c.MaxAge))
	}
	if c.HttpOnly {
		s = append(s, "HttpOnly")
	}
	if c.Secure {
		s = append(s, "Secure")
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		s = append(s, "SameSite=Lax")
	case http.SameSiteStrictMode:
		s = append(s, "SameSite=Strict")
	case http.SameSiteNoneMode:
		s = append(s, "SameSite=None")
	}
	return strings.Join(s, " ")
}

// check compares res with w.
func check(t *testing.T, name string, res result, w Want) {
	t.Helper()
	if res.status != w.Status {
		t.Errorf("%s: status = %d, want %d (body %s)", name, res.status, w.Status, res.body)
	}
	if got := res.header.Get("WWW-Authenticate"); got != w.Authn {
		t.Errorf("%s: WWW-Authenticate = %q, want %q", name, got, w.Authn)
	}
	if got := res.header.Get("Retry-After"); got != w.RetryAfter {
		t.Errorf("%s: Retry-After = %q, want %q", name, got, w.RetryAfter)
	}
	ct, cc := "application/json", "no-store"
	if w.Bare {
		ct, cc = "", ""
	}
	if got := res.header.Get("Content-Type"); got != ct {
		t.Errorf("%s: Content-Type = %q, want %q", name, got, ct)
	}
	if got := res.header.Get("Cache-Control"); got != cc {
		t.Errorf("%s: Cache-Control = %q, want %q", name, got, cc)
	}
	switch {
	case w.Bare:
		if res.body != w.Body {
			t.Errorf("%s: body = %q, want %q", name, res.body, w.Body)
		}
	case w.Body != "":
		if got := compactJSON([]byte(res.body)); got != w.Body {
			t.Errorf("%s: body = %s, want %s", name, got, w.Body)
		}
	case res.status == http.StatusOK:
		// A body that depends on the fixture: at least the handler's
		// answer, with the whole request body read.
		var a answer
		if err := json.Unmarshal([]byte(res.body), &a); err != nil || a.Sub == "" || a.Sub != a.CtxSub || a.BodyBytes == 0 || a.Mismatch != "" {
			t.Errorf("%s: body = %s, want a handler's answer that read the body", name, res.body)
		}
	}
	if !slices.Equal(res.cookies, w.Cookies) {
		t.Errorf("%s: cookies set = %q, want %q", name, res.cookies, w.Cookies)
	}
}

// diff describes how b differs from a, or returns "".
func diff(a, b result) string {
	if sa, sb := a.String(), b.String(); sa != sb {
		return lineDiff(sa, sb)
	}
	return ""
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order or count)\n--- want\n" + want + "\n--- got\n" + got
	}
	return b.String()
}
