package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/storetest"
)

// testAttackQueryToken: with the default locations, a token in the query
// string or in a JSON body is not read: the request has no token.
func testAttackQueryToken(t *testing.T, routes Routes) {
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk := a.login(t, "test", "laptop")
			q := func(path, param, tok string) string { return path + "?" + param + "=" + url.QueryEscape(tok) }
			body := func(key, tok string) string { b, _ := json.Marshal(map[string]string{key: tok}); return string(b) }
			for _, c := range []struct {
				name string
				req  request
				want want
			}{
				{"access token in the query", request{method: "GET", path: q("/protected", "access_token", tk.AccessToken)}, refusedNoToken},
				{"garbage in the query", request{method: "GET", path: q("/protected", "access_token", "abc.def")}, refusedNoToken},
				{"access token in the query of an optional route", request{method: "GET", path: q("/optionally_protected", "access_token", tk.AccessToken)},
					want{200, "", loggedInAs("anonymous user")}},
				{"access token in the query of logout", request{method: "POST", path: q("/logout", "access_token", tk.AccessToken)}, refusedNoToken},
				{"refresh token in the query", request{method: "POST", path: q("/refresh", "refresh_token", tk.RefreshToken)}, refusedNoToken},
				{"access token in a JSON body", request{method: "POST", path: "/logout", body: body("access_token", tk.AccessToken)}, refusedNoToken},
				{"refresh token in a JSON body", request{method: "POST", path: "/refresh", body: body("refresh_token", tk.RefreshToken)}, refusedNoToken},
			} {
				t.Run(c.name, func(t *testing.T) {
					if c.want.status == 200 {
						a.refused(t, c.req, c.want)
						return
					}
					a.untouched(t, c.req, c.want)
				})
			}
			a.get(t, "/protected", tk.AccessToken).check(t, servedTest)
		})
	}
}

// testAttackConflictingTokens: with more than one location on, two
// different tokens in a request are a 400 invalid_request, two
// Authorization headers or two query parameters a 400 too, and nothing
// is read from the store or written to it.
func testAttackConflictingTokens(t *testing.T, routes Routes) {
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, func(c *config) {
				c.HTTP.Locations = []latchhttp.Location{latchhttp.InHeader, latchhttp.InQuery, latchhttp.InJSON}
			})
			tk, bat := a.login(t, "test", "laptop"), a.login(t, "batman", "batcave")
			q := func(path, tok string) string { return path + "?access_token=" + url.QueryEscape(tok) }
			body := func(key, tok string) string { b, _ := json.Marshal(map[string]string{key: tok}); return string(b) }
			for _, c := range []struct {
				name string
				req  request
			}{
				{"header and query", request{method: "GET", path: q("/protected", bat.AccessToken), token: tk.AccessToken}},
				{"header and garbage in the query", request{method: "GET", path: q("/protected", "abc.def"), token: tk.AccessToken}},
				{"header and body", request{method: "POST", path: "/logout", token: tk.AccessToken, body: body("access_token", bat.AccessToken)}},
				{"query and body", request{method: "POST", path: q("/logout", tk.AccessToken), body: body("access_token", bat.AccessToken)}},
				{"header and body at logout_all", request{method: "POST", path: "/logout_all", token: bat.AccessToken, body: body("access_token", tk.AccessToken)}},
				{"refresh tokens in header and body", request{method: "POST", path: "/refresh", token: tk.RefreshToken, body: body("refresh_token", bat.RefreshToken)}},
			} {
				t.Run(c.name, func(t *testing.T) { a.untouched(t, c.req, refusedConflict) })
			}
			for _, c := range []struct {
				name  string
				build func(r *http.Request)
			}{
				{"two Authorization headers", func(r *http.Request) {
					r.Header.Add("Authorization", "Bearer "+tk.AccessToken)
					r.Header.Add("Authorization", "Bearer "+bat.AccessToken)
				}},
				{"two query parameters", func(r *http.Request) {
					r.URL.RawQuery = url.Values{"access_token": {tk.AccessToken, bat.AccessToken}}.Encode()
				}},
			} {
				t.Run(c.name, func(t *testing.T) {
					r, err := http.NewRequest("POST", a.srv.URL+"/logout", nil)
					if err != nil {
						t.Fatal(err)
					}
					c.build(r)
					a.store.Reset()
					resp, err := a.client.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					(&response{resp.StatusCode, resp.Header, b}).check(t, refusedBadRequest)
					if got := a.store.Calls(); got != (storetest.Calls{}) {
						t.Errorf("the store was called: %+v", got)
					}
				})
			}
			t.Run("both users are still logged in", func(t *testing.T) {
				a.get(t, "/protected", tk.AccessToken).check(t, servedTest)
				a.get(t, "/protected", bat.AccessToken).check(t, want{200, "", loggedInAs("2")})
			})
		})
	}
}

// hugeBody is n bytes of a JSON login body that never ends.
func hugeBody(n int) io.Reader {
	return io.MultiReader(strings.NewReader(`{"username":"test","password":"`), io.LimitReader(repeatReader('a'), int64(n-31)))
}

// repeatReader reads c forever.
type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

// testAttackHugeRequests: 1 MiB headers, 10 MiB bodies and deeply nested
// JSON, at /login and at routes that read tokens from JSON bodies. The
// server behind the harness has the examples' real limits
// (walkthrough.NewHTTPServer): each is refused with a 4xx after a bounded
// read, nothing is written to the store, and the server goes on serving.
func testAttackHugeRequests(t *testing.T, routes Routes) {
	const (
		mib    = 1 << 20
		header = "Host: latch.example\r\nUser-Agent: attacker\r\n"
	)
	big := strings.Repeat("a", mib)
	headerTooLarge := func(t *testing.T, r rawAnswer) {
		t.Helper()
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status = %d, want 431", r.status)
		}
	}
	jsonAnswer := func(w want) func(*testing.T, rawAnswer) {
		return func(t *testing.T, r rawAnswer) {
			t.Helper()
			(&response{r.status, r.header, r.body}).check(t, w)
		}
	}
	post := func(path, extra string, length int) string {
		h := "POST " + path + " HTTP/1.1\r\n" + header + "Content-Type: application/json\r\n" + extra
		if length >= 0 {
			h += fmt.Sprintf("Content-Length: %d\r\n", length)
		} else {
			h += "Transfer-Encoding: chunked\r\n"
		}
		return h + "\r\n"
	}
	chunked := func(r io.Reader) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			cw := httputil.NewChunkedWriter(pw)
			_, err := io.Copy(cw, r)
			if err == nil {
				err = cw.Close()
			}
			if err == nil {
				_, err = io.WriteString(pw, "\r\n")
			}
			pw.CloseWithError(err)
		}()
		return pr
	}
	nested := func(depth int, closed bool) string {
		s := strings.Repeat("[", depth)
		if closed {
			s += strings.Repeat("]", depth)
		}
		return s
	}
	badLogin := jsonAnswer(want{400, "", `{"msg":"Bad request"}`})
	type attack struct {
		head  string
		body  func() io.Reader
		check func(*testing.T, rawAnswer)
	}
	get := func(extra string) attack {
		return attack{"GET /protected HTTP/1.1\r\n" + header + extra + "\r\n\r\n", nil, headerTooLarge}
	}
	postJSON := func(path, body string, check func(*testing.T, rawAnswer)) attack {
		return attack{post(path, "", len(body)), func() io.Reader { return strings.NewReader(body) }, check}
	}
	postHuge := func(path string, n int, isChunked bool) attack {
		if isChunked {
			return attack{post(path, "", -1), func() io.Reader { return chunked(hugeBody(n)) }, jsonAnswer(refusedTooLarge)}
		}
		return attack{post(path, "", n), func() io.Reader { return hugeBody(n) }, jsonAnswer(refusedTooLarge)}
	}
	objects := func(depth int) string { return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) }
	cases := []struct {
		name string
		attack
	}{
		{"1 MiB header", get("X-Big: " + big)},
		{"1 MiB Authorization header", get("Authorization: Bearer " + big)},
		{"1 MiB cookie", get("Cookie: latch_access=" + big)},
		{"1 MiB header at login", attack{post("/login", "X-Big: "+big+"\r\n", 2), func() io.Reader { return strings.NewReader("{}") }, headerTooLarge}},
		{"10 MiB body at login", postHuge("/login", 10*mib, false)},
		{"10 MiB chunked body at login", postHuge("/login", 10*mib, true)},
		{"100,000 [ at login", postJSON("/login", nested(100_000, false), jsonAnswer(refusedTooLarge))},
		{"60,000 [ at login", postJSON("/login", nested(60_000, false), badLogin)},
		{"30,000 nested arrays at login", postJSON("/login", nested(30_000, true), badLogin)},
		{"10,001 nested objects at login", postJSON("/login", objects(10_001), badLogin)},
		{"1 MiB header at refresh", attack{post("/refresh", "X-Big: "+big+"\r\n", 2), func() io.Reader { return strings.NewReader("{}") }, headerTooLarge}},
		{"10 MiB body at logout", postHuge("/logout", 10*mib, false)},
		{"10 MiB chunked body at refresh", postHuge("/refresh", 10*mib, true)},
		{"100,000 [ at logout", postJSON("/logout", nested(100_000, false), jsonAnswer(refusedTooLarge))},
		{"60,000 [ at logout", postJSON("/logout", nested(60_000, false), jsonAnswer(refusedBadRequest))},
		{"30,000 nested arrays at refresh", postJSON("/refresh", nested(30_000, true), jsonAnswer(refusedBadRequest))},
		{"30,000 nested objects at refresh", postJSON("/refresh", objects(30_000), jsonAnswer(refusedTooLarge))},
		{"10,001 nested objects at refresh", postJSON("/refresh", objects(10_001), jsonAnswer(refusedBadRequest))},
	}
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			// Tokens are read from the header and from JSON bodies.
			a := newAttackHarness(t, routes, s, func(c *config) { c.HTTP.Locations = []latchhttp.Location{latchhttp.InHeader, latchhttp.InJSON} })
			tk := a.login(t, "test", "laptop")
			a.stillServing(t)
			addr := a.srv.Listener.Addr().String()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					// The client's keep-alive connection is up: every goroutine
					// the attack starts, in the test or in the server, must end
					// with it.
					before := runtime.NumGoroutine()
					var body io.Reader
					if c.body != nil {
						body = c.body()
					}
					a.store.Reset()
					c.check(t, rawExchange(t, addr, c.head, body))
					if got := a.store.Calls(); got != (storetest.Calls{}) {
						t.Errorf("the store was called: %+v", got)
					}
					a.stillServing(t)
					noGoroutinesLeft(t, before)
				})
			}
			a.get(t, "/protected", tk.AccessToken).check(t, servedTest)
		})
	}
}

// noGoroutinesLeft fails t if, within a few seconds, the process does
// not come back down to before goroutines: a connection or a body writer
// that outlived its exchange.
func noGoroutinesLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// garbage are tokens no format accepts, of every size up to far past the
// 8 KiB any token may have; tenDots is the baseline they are compared
// with. All are longer than latch.MaxTokenLen.
var (
	tenDots = strings.Repeat(".", 10)
	garbage = map[string]string{
		"100,000 dots":            strings.Repeat(".", 100_000),
		"8193 letters":            strings.Repeat("a", 8193),
		"1 MiB of letters":        strings.Repeat("a", 1<<20),
		"100,000 dots then a JWT": strings.Repeat(".", 100_000) + "eyJhbGciOiJub25lIn0.e30.",
	}
)

// rejectRequest is a request carrying tok in its Authorization header,
// served by the app's handler directly (no HTTP server: the server's
// header limit would refuse most of these before latch sees them).
func rejectRequest(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// lastFailure keeps the last failure event the app emitted, without
// allocating, so it can watch requests whose allocations are measured.
type lastFailure struct {
	mu sync.Mutex
	ev latch.Event
}

func (l *lastFailure) hook(_ context.Context, e latch.Event) {
	if e.Kind != latch.EventFailure {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = e
}

// take returns the last failure event and forgets it.
func (l *lastFailure) take() latch.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.ev
	l.ev = latch.Event{}
	return e
}

// quietHarness is an attack harness whose log formats events to nowhere,
// so allocation counts do not depend on a growing log buffer, with
// failures kept in last.
func quietHarness(tb testing.TB, routes Routes, s attackSetup) (a *attackHarness, h http.Handler, last *lastFailure) {
	last = &lastFailure{}
	a = newAttackHarness(tb, routes, s, nil, latch.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), latch.WithEventHook(last.hook))
	return a, routes(a.app), last
}

// allocsPerRun is testing.AllocsPerRun measuring bytes too: the average
// number of allocations, and of bytes allocated, by one call of f, over
// runs calls after a warm-up call.
func allocsPerRun(runs int, f func()) (allocs, bytes float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs),
		float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// testAttackDots: a token of 100,000 dots (the shape of CVE-2025-30204)
// or another huge piece of garbage is refused as malformed, at the
// middleware, for being over latch.MaxTokenLen, with no more allocations
// and no more bytes allocated than for a 10-dot token (a few fewer, in
// fact: it is refused before any parsing): the work does not grow with
// the token. Counting allocations alone would miss one that grows with
// the token (a strings.Split over the dots is a single allocation);
// bytes show it. BenchmarkRejectDots shows the time.
func testAttackDots(t *testing.T, routes Routes) {
	const (
		slack      = 2    // allocations garbage may cost beyond the 10-dot refusal
		slackBytes = 1024 // bytes it may cost beyond it, per request
		// Averages over 1000 runs: under -race, sync.Pool drops objects at
		// random (net/http, gin and echo pool theirs), and averages over
		// 100 wandered by up to 2 allocations, the whole slack.
		runs = 1000
	)
	tooLong := "over " + strconv.Itoa(latch.MaxTokenLen) + " bytes"
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a, h, last := quietHarness(t, routes, s)
			measure := func(t *testing.T, tok string) (allocs, bytes float64, reason error) {
				t.Helper()
				r := rejectRequest(tok)
				rec := httptest.NewRecorder()
				last.take()
				h.ServeHTTP(rec, r)
				(&response{rec.Code, rec.Header(), rec.Body.Bytes()}).check(t, refusedMalformed)
				reason = last.take().Err
				if !errors.Is(reason, latch.ErrMalformedToken) {
					t.Errorf("refused for %v, want a latch.ErrMalformedToken", reason)
				}
				allocs, bytes = allocsPerRun(runs, func() { h.ServeHTTP(httptest.NewRecorder(), r) })
				return allocs, bytes, reason
			}
			a.store.Reset()
			base, baseBytes, _ := measure(t, tenDots)
			for name, tok := range garbage {
				t.Run(name, func(t *testing.T) {
					n, b, reason := measure(t, tok)
					if reason == nil || !strings.Contains(reason.Error(), tooLong) {
						t.Errorf("refused for %v, want the size limit (%q)", reason, tooLong)
					}
					if n > base+slack {
						t.Errorf("%v allocations per refusal, %v for 10 dots", n, base)
					}
					if b > baseBytes+slackBytes {
						t.Errorf("%v bytes allocated per refusal, %v for 10 dots", b, baseBytes)
					}
					t.Logf("%v allocations, %v bytes per refusal; %v, %v for 10 dots", n, b, base, baseBytes)
				})
			}
			if got := a.store.Calls(); got != (storetest.Calls{}) {
				t.Errorf("the store was called: %+v", got)
			}
		})
	}
}

// BenchmarkRejectDots times refusing a 100,000-dot token and other
// garbage against the 10-dot baseline, in each mode, on routes: the times
// should be about equal.
func BenchmarkRejectDots(b *testing.B, routes Routes) {
	for _, s := range []attackSetup{setupOpaque, setupJWT, setupHybrid} {
		b.Run(s.name, func(b *testing.B) {
			_, h, _ := quietHarness(b, routes, s)
			run := func(name, tok string) {
				b.Run(name, func(b *testing.B) {
					r := rejectRequest(tok)
					b.ReportAllocs()
					for b.Loop() {
						h.ServeHTTP(httptest.NewRecorder(), r)
					}
				})
			}
			run("baseline 10 dots", tenDots)
			for _, name := range []string{"100,000 dots", "1 MiB of letters"} {
				run(name, garbage[name])
			}
		})
	}
}
