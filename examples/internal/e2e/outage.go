package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/testenv"
)

// The outage tests put a testenv.Proxy between the app and each
// networked backend (one per node of a Redis Cluster), take the backend
// away (Drop: connections reset; Stall: a blackhole) and bring it back,
// without touching the shared servers that other test packages use
// meanwhile.
const (
	// outageStoreTimeout is the app's StoreTimeout: small, so a stall
	// shows quickly, yet well above a healthy call on a loaded machine
	// under -race (at 300ms, FerretDB logins and MariaDB refreshes
	// sometimes took longer with the backend up, and the test flaked).
	outageStoreTimeout = time.Second
	// answerBound is how long a refused request may take during an
	// outage: a store call or two past their timeout, plus a generous
	// margin for a loaded machine under -race. A correctness bound (no
	// hang), not a speed target.
	// A stalled TCP read without a deadline lasts minutes, so the bound
	// can be loose and still tell the two apart.
	answerBound = 2*outageStoreTimeout + 8*time.Second
	// hangGuard is the client's timeout: a request still unanswered then
	// is reported as hung rather than blocking the test. Moderately above
	// answerBound, so a slow answer fails as slow, not as hung; and once
	// a backend has hung, its later subtests fail at once (hangWatch), so
	// a hang regression costs about one hangGuard per backend, well
	// within go test's 10-minute timeout, instead of one per subtest.
	hangGuard = answerBound + 5*time.Second
	// recoveryWait bounds how long the drivers may take to reconnect once
	// the backend is back.
	recoveryWait = 20 * time.Second
)

// storeDown is latch's answer to a store failure (docs/errors.md):
// 503, no WWW-Authenticate, Retry-After: 5.
var storeDown = want{503, "", `{"msg":"Service temporarily unavailable"}`}

// outageMode is a mode and whether access tokens need the store.
type outageMode struct {
	name         string
	mode         latch.Mode
	sessionCheck bool
}

// storeless reports whether /protected verifies access tokens without
// the store: JWTs (jwt and hybrid modes) without session checks.
func (m outageMode) storeless() bool { return m.mode != latch.ModeOpaque && !m.sessionCheck }

// testOutage takes each networked backend away under the running
// app and brings it back: while it is gone every route that needs the
// store answers 503 quickly (fail closed, never a 200 for a token that
// could not be checked), the failure reaches the event hook and the log
// without a token in either, and once it is back the same tokens work
// again without a restart and the sessions are still there. Access
// tokens that need no store (jwt and hybrid without session checks) keep
// working throughout.
//
// Redis Cluster is taken away too, though a single proxy cannot stand in
// for it: the cluster answers CLUSTER SLOTS and MOVED redirects with its
// nodes' own addresses, and go-redis connects to those. So each node gets
// a proxy of its own, and the app's cluster client dials every node
// through its node's proxy and refuses any address without one
// (proxiedCluster); the outage then takes every node away at once.
//
// Not covered: SQLite, which is embedded (no network to take away).
func testOutage(t *testing.T, routes Routes) {
	backends := []struct {
		name    string
		proxied func(t *testing.T, tag string) proxiedStore
	}{
		{"postgres", byURL(postgresURL)},
		{"mysql", byURL(mysqlURL)}, // MariaDB here
		{"redis", byURL(redisURL)},
		{"redis-cluster", proxiedCluster},
		{"mongo", byURL(mongoURL)}, // FerretDB here
	}
	outageModes := []outageMode{
		{"opaque", latch.ModeOpaque, false},
		{"jwt-session-check", latch.ModeJWT, true},
		{"hybrid", latch.ModeHybrid, false},
		{"jwt", latch.ModeJWT, false},
	}
	faults := []struct {
		name  string
		start func(*testenv.Proxy)
	}{
		{"drop", (*testenv.Proxy).Drop},
		{"stall", (*testenv.Proxy).Stall},
	}
	var recoveries []string
	t.Cleanup(func() {
		if len(recoveries) > 0 {
			t.Logf("recovery times:\n%s", strings.Join(recoveries, "\n"))
		}
	})
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			hangs := &hangWatch{}
			for _, m := range outageModes {
				t.Run(m.name, func(t *testing.T) {
					for _, f := range faults {
						t.Run(f.name, func(t *testing.T) {
							hangs.check(t)
							took := runOutage(t, routes, hangs, b.proxied, m, f.start)
							if took >= 0 {
								recoveries = append(recoveries, t.Name()+": "+took.String())
							}
						})
					}
				})
			}
		})
	}
}

// hangWatch remembers the first request to a backend that got no answer
// in time: none within hangGuard, or an error (the server hanging up)
// only after answerBound. The backend's later subtests then fail at once
// instead of each waiting as long again: a hang in every one of them
// would outlast go test's 10-minute timeout, whose report is a goroutine
// dump instead of these tests' failures.
type hangWatch struct {
	mu    sync.Mutex
	first string // "" until a request hung
}

// saw records what a request named name, made by t, got: err after took.
// It reports whether that was a hang.
func (w *hangWatch) saw(t *testing.T, name string, err error, took time.Duration) bool {
	var te interface{ Timeout() bool }
	if err == nil || !(errors.As(err, &te) && te.Timeout()) && took <= answerBound {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first == "" {
		w.first = fmt.Sprintf("%s in %s (no answer after %v)", name, t.Name(), took.Round(time.Millisecond))
	}
	return true
}

// hung describes the request that hung first, "" if none did.
func (w *hangWatch) hung() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// check fails t at once if a request of an earlier subtest hung.
func (w *hangWatch) check(t *testing.T) {
	t.Helper()
	if first := w.hung(); first != "" {
		t.Fatalf("not run: %s hung (see its failure); the later subtests of this backend fail at once rather than hang too", first)
	}
}

// outageEvents records the events the app emits.
type outageEvents struct {
	mu   sync.Mutex
	list []latch.Event
}

func (e *outageEvents) hook(_ context.Context, ev latch.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

// since returns the events from the n-th on.
func (e *outageEvents) since(n int) []latch.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]latch.Event(nil), e.list[min(n, len(e.list)):]...)
}

func (e *outageEvents) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.list)
}

// proxiedStore is a backend that the app reaches only through proxies.
type proxiedStore struct {
	// url is the store URL for Config.Store, pointing at a proxy; or
	// opts hand the app its store (latch.WithStore) and url is "".
	url  string
	opts []latch.Option
	// proxies stand between the app and the backend: every connection
	// the app makes to it goes through one of them.
	proxies []*testenv.Proxy
}

// byURL proxies the backend that backendURL, from stores_test.go, names:
// the app opens the store from its URL, as the examples do, through one
// proxy.
func byURL(backendURL func(t *testing.T, tag string) string) func(t *testing.T, tag string) proxiedStore {
	return func(t *testing.T, tag string) proxiedStore {
		u, p := proxiedURL(t, backendURL(t, tag))
		return proxiedStore{url: u, proxies: []*testenv.Proxy{p}}
	}
}

// proxiedURL returns raw, a backend URL from stores_test.go, pointing at a
// proxy to its host, and the proxy.
func proxiedURL(t *testing.T, raw string) (string, *testenv.Proxy) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("backend URL does not parse: %v", err)
	}
	p := testenv.NewProxy(t, u.Host)
	u.Host = p.Addr()
	if u.Scheme == "mongodb" {
		// Talk to this address only: no topology discovery that could
		// lead the driver to the server's own address, past the proxy.
		q := u.Query()
		q.Set("directConnection", "true")
		u.RawQuery = q.Encode()
	}
	return u.String(), p
}

// outageAttempt is one request made during an outage.
type outageAttempt struct {
	name string
	req  request
	want want
	resp *response
	took time.Duration
	err  error
}

// runOutage runs one backend, mode and fault, and returns how long the
// app took to serve again after the backend came back (-1 if it did
// not). The fault and the restore reach every proxy of the backend.
func runOutage(t *testing.T, routes Routes, hangs *hangWatch, proxied func(*testing.T, string) proxiedStore, m outageMode, fault func(*testenv.Proxy)) time.Duration {
	ps := proxied(t, "outage"+strings.ToLower(rand.Text()[:10]))
	ev := &outageEvents{}
	h := newHarness(t, routes, m.mode, func(c *config) {
		c.Store = latch.StoreURL(ps.url)
		c.StoreTimeout = latch.Duration(outageStoreTimeout)
		c.SessionCheck = m.sessionCheck
	}, append([]latch.Option{latch.WithEventHook(ev.hook)}, ps.opts...)...)
	restore := func() {
		for _, p := range ps.proxies {
			p.Restore()
		}
	}
	// Cleanups run last first: the backend comes back before the app
	// closes, so a failed test does not leave Close waiting on a stall.
	t.Cleanup(restore)
	guarded := &http.Client{Timeout: hangGuard}

	// Up: log in; the token works and the session lists.
	tk := h.login(t, "test", "laptop")
	h.get(t, "/protected", tk.AccessToken).check(t, want{200, "", loggedInAs("1")})
	checkLaptopListed(t, h.sessions(t, tk.AccessToken))

	// Down.
	logMark, evMark := len(h.logs.String()), ev.len()
	for _, p := range ps.proxies {
		fault(p)
	}
	protectedWant := storeDown
	if m.storeless() {
		protectedWant = want{200, "", loggedInAs("1")}
	}
	attempts := []*outageAttempt{
		{name: "GET /protected", req: request{method: "GET", path: "/protected", token: tk.AccessToken}, want: protectedWant},
		{name: "GET /sessions", req: request{method: "GET", path: "/sessions", token: tk.AccessToken}, want: storeDown},
		{name: "POST /refresh", req: request{method: "POST", path: "/refresh", token: tk.RefreshToken}, want: storeDown},
		{name: "POST /login", req: request{method: "POST", path: "/login",
			body: `{"username":"test","password":"test","device":"outage"}`}, want: storeDown},
	}
	// Concurrently, so a hang costs one hangGuard rather than one per route.
	var wg sync.WaitGroup
	for _, a := range attempts {
		wg.Go(func() { a.send(guarded, h) })
	}
	wg.Wait()
	for _, a := range attempts {
		hangs.saw(t, a.name, a.err, a.took)
		checkOutageAnswer(t, h, a)
	}
	if m.storeless() && hangs.hung() == "" {
		// Still serving, after the store calls above have failed.
		a := &outageAttempt{name: "GET /protected again", req: attempts[0].req, want: protectedWant}
		a.send(guarded, h)
		hangs.saw(t, a.name, a.err, a.took)
		checkOutageAnswer(t, h, a)
	}
	checkOutageReported(t, h, ev.since(evMark), h.logs.String()[logMark:])

	// Up again: the same tokens work without a restart.
	restore()
	took, ok := awaitRecovery(t, h, hangs, guarded, tk.AccessToken)
	if !ok {
		return -1
	}
	t.Logf("served again %v after the backend came back", took.Round(time.Millisecond))
	h.get(t, "/protected", tk.AccessToken).check(t, want{200, "", loggedInAs("1")})
	checkLaptopListed(t, h.sessions(t, tk.AccessToken))
	// The refresh token held through the outage was never spent: during
	// a stall, the refresh gives up reading the session, before any
	// write, so nothing the stall held back spends it on Restore.
	if r := h.refresh(t, tk.RefreshToken); r.status != 200 {
		t.Errorf("POST /refresh with the token held through the outage: %d %s", r.status, redactTokens(string(r.body)))
	} else {
		h.decodeTokens(t, r)
	}
	h.login(t, "test", "after")
	return took
}

// send sends a's request with c to h's server and records the outcome;
// it registers any token the answer hands out, so that even a fail-open
// answer is covered by the log scans.
func (a *outageAttempt) send(c *http.Client, h *harness) {
	start := time.Now()
	a.resp, a.err = trySend(c, h.srv.URL, a.req)
	a.took = time.Since(start)
	if a.resp != nil {
		h.rememberAnswer(a.resp)
	}
}

// checkOutageAnswer asserts a's answer: in time, exactly as wanted, and
// never a 200 where the store had to be asked.
func checkOutageAnswer(t *testing.T, h *harness, a *outageAttempt) {
	t.Helper()
	if a.err != nil {
		t.Errorf("%s during the outage: no answer after %v: %v", a.name, a.took.Round(time.Millisecond), a.err)
		return
	}
	t.Logf("%s during the outage: %d in %v", a.name, a.resp.status, a.took.Round(time.Millisecond))
	if a.took > answerBound {
		t.Errorf("%s during the outage took %v, want at most %v (StoreTimeout %v)",
			a.name, a.took.Round(time.Millisecond), answerBound, outageStoreTimeout)
	}
	if a.want.status == 503 && a.resp.status == 200 {
		t.Errorf("%s during the outage: 200 without the store (fail open): %s", a.name, redactTokens(string(a.resp.body)))
		return
	}
	t.Run(strings.ReplaceAll(a.name, "/", ""), func(t *testing.T) { a.resp.check(t, a.want) })
	if a.want.status == 503 {
		if got := a.resp.header.Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After = %q, want 5", a.name, got)
		}
	}
	if got := a.resp.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", a.name, got)
	}
}

// checkOutageReported asserts the outage reached the event hook and the log
// (the part written since it began), with no issued token in either.
func checkOutageReported(t *testing.T, h *harness, evs []latch.Event, logs string) {
	t.Helper()
	n := 0
	issued := h.issuedTokens()
	for _, e := range evs {
		if e.Kind != latch.EventStoreFailure {
			continue
		}
		n++
		if !errors.Is(e.Err, latch.ErrUnavailable) {
			t.Errorf("store_error event carries %v, want an ErrUnavailable", e.Err)
		}
		for _, tok := range issued {
			if e.Err != nil && strings.Contains(e.Err.Error(), tok) {
				t.Errorf("a store_error event quotes an issued token")
			}
		}
	}
	if n == 0 {
		t.Errorf("no %s event during the outage; events: %v", latch.EventStoreFailure, evs)
	}
	if !strings.Contains(logs, `level=ERROR msg="latch: store_error"`) {
		t.Errorf("no ERROR store_error line in the log during the outage:\n%s", logs)
	}
	for _, tok := range issued {
		if strings.Contains(logs, tok) {
			t.Errorf("the log during the outage quotes an issued token")
		}
	}
}

// awaitRecovery polls until the store-backed routes serve token again: the
// session list (which needs the store in every mode) and /protected. It
// returns how long that took after the backend came back.
func awaitRecovery(t *testing.T, h *harness, hangs *hangWatch, c *http.Client, token string) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	var last string
	for {
		sent := time.Now()
		s, errS := trySend(c, h.srv.URL, request{method: "GET", path: "/sessions", token: token})
		tookS, sent := time.Since(sent), time.Now()
		p, errP := trySend(c, h.srv.URL, request{method: "GET", path: "/protected", token: token})
		tookP := time.Since(sent)
		if hangs.saw(t, "GET /sessions after the outage", errS, tookS) || hangs.saw(t, "GET /protected after the outage", errP, tookP) {
			t.Errorf("no answer in time after the backend came back: GET /sessions: %v after %v; GET /protected: %v after %v",
				errS, tookS.Round(time.Millisecond), errP, tookP.Round(time.Millisecond))
			return 0, false
		}
		if errS == nil && errP == nil && s.status == 200 && p.status == 200 {
			return time.Since(start), true
		}
		switch {
		case errS != nil:
			last = "GET /sessions: " + errS.Error()
		case errP != nil:
			last = "GET /protected: " + errP.Error()
		default:
			last = "GET /sessions: " + http.StatusText(s.status) + " " + string(s.body) +
				"; GET /protected: " + http.StatusText(p.status) + " " + string(p.body)
			for _, r := range []*response{s, p} {
				if r.status != 200 && r.status != 503 {
					t.Errorf("after the outage: %d %s, want 200 (or 503 while reconnecting)", r.status, r.body)
					return 0, false
				}
			}
		}
		if time.Since(start) > recoveryWait {
			t.Errorf("not serving %v after the backend came back; last: %s", recoveryWait, last)
			return 0, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkLaptopListed asserts that the session logged in from "laptop" is listed.
func checkLaptopListed(t *testing.T, list []latch.SessionInfo) {
	t.Helper()
	for _, s := range list {
		if s.Device.Label == "laptop" {
			return
		}
	}
	t.Errorf("the laptop session is not listed: %+v", list)
}
