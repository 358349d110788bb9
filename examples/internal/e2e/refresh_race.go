package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// raceClients is how many clients refresh with one token at once.
const raceClients = 50

// testRefreshRace: a refresh token sent by 50 clients at once (a page's
// tabs, a retrying proxy) gets 50 × 200 with one and the same refresh
// token, and every access token handed out works; past the reuse grace,
// the spent token ends the session. In every mode, with the token in the
// Authorization header and in cookies, on the default SQLite file and on
// the memory store.
func testRefreshRace(t *testing.T, routes Routes) {
	for _, st := range []struct{ name, url string }{{"sqlite", ""}, {"memory", "memory:"}} {
		t.Run(st.name, func(t *testing.T) {
			refreshRace(t, routes, func(*testing.T) string { return st.url })
		})
	}
}

// testEveryStoreRefreshRace is testRefreshRace on every networked store.
func testEveryStoreRefreshRace(t *testing.T, routes Routes) {
	for _, b := range networkedStores {
		t.Run(b.name, func(t *testing.T) { refreshRace(t, routes, b.newURL) })
	}
}

// refreshRace races refreshes in every mode and both ways of carrying
// tokens, each on a store of its own from storeURL ("" for the
// walkthrough's SQLite file).
func refreshRace(t *testing.T, routes Routes, storeURL func(*testing.T) string) {
	for _, mode := range modes {
		for _, w := range []carrier{{"header", latchhttp.InHeader}, {"cookie", latchhttp.InCookie}} {
			t.Run(string(mode)+"/"+w.name, func(t *testing.T) {
				u := storeURL(t)
				h := newHarness(t, routes, mode, func(c *config) {
					c.Store = latch.StoreURL(u)
					c.HTTP.Locations = []latchhttp.Location{w.loc}
					c.HTTP.Cookie.Insecure = true // httptest serves plain HTTP
				})
				raceOnce(t, h, w)
			})
		}
	}
}

// raceOnce logs test in, sends raceClients refreshes with its refresh
// token at once, checks the answers, then replays the token past the
// grace.
func raceOnce(t *testing.T, h *harness, w carrier) {
	login := w.issued(t, h, h.do(t, request{method: "POST", path: "/login", body: `{"username":"test","password":"test","device":"tabs"}`}))
	h.clock.Add(time.Minute)

	// Enough connections for every request to be in flight at once.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: raceClients}}
	defer client.CloseIdleConnections()
	answers, errs := make([]*response, raceClients), make([]error, raceClients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range raceClients {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = trySend(client, h.srv.URL, w.request("POST", "/refresh", login.refresh, latch.Refresh))
		})
	}
	close(start)
	wg.Wait()

	refused := map[string]int{}
	for i, r := range answers {
		if errs[i] != nil {
			t.Fatalf("refresh %d: %v", i, errs[i])
		}
		h.rememberAnswer(r)
		if r.status != http.StatusOK {
			refused[fmt.Sprintf("%d %s", r.status, redactTokens(strings.TrimSpace(string(r.body))))]++
		}
	}
	if len(refused) > 0 {
		t.Fatalf("of %d refreshes with one token, some were refused (answer: how many): %v", raceClients, refused)
	}
	refresh, access := map[string]bool{}, map[string]bool{}
	for _, r := range answers {
		got := w.issued(t, h, r)
		refresh[got.refresh], access[got.access] = true, true
	}
	if t.Failed() {
		return
	}
	next := anyOf(refresh)
	if len(refresh) != 1 || next == login.refresh {
		t.Fatalf("%d refreshes answered %d refresh tokens (the spent one among them: %t), want one new one",
			raceClients, len(refresh), refresh[login.refresh])
	}
	// The session holds one access secret: opaque access tokens are one
	// too; access JWTs are signed afresh.
	if h.mode == latch.ModeOpaque && len(access) != 1 {
		t.Errorf("%d refreshes answered %d opaque access tokens, want one", raceClients, len(access))
	}
	for tok := range access {
		h.do(t, w.request("GET", "/protected", tok, latch.Access)).check(t, servedTest)
	}
	if n := len(listed(t, h.do(t, w.request("GET", "/sessions", anyOf(access), latch.Access)))); n != 1 {
		t.Errorf("/sessions lists %d sessions, want the one", n)
	}

	h.clock.Add(latch.DefaultReuseGrace)
	h.do(t, w.request("POST", "/refresh", login.refresh, latch.Refresh)).check(t, refusedEnded)
	h.do(t, w.request("POST", "/refresh", next, latch.Refresh)).check(t, refusedEnded)
}

// carrier is how a client carries its tokens: in the Authorization
// header, or in cookies with the CSRF header, as a browser page does.
type carrier struct {
	name string
	loc  latchhttp.Location
}

// pair is a client's tokens.
type pair struct{ access, refresh string }

// Cookie names with Insecure set: no __Host- prefix.
var (
	tokenCookie = map[latch.TokenType]string{latch.Access: "latch_access", latch.Refresh: "latch_refresh"}
	csrfCookie  = map[latch.TokenType]string{latch.Access: "latch_csrf_access", latch.Refresh: "latch_csrf_refresh"}
)

// request is method path with tok, a token of type typ: in cookies, with
// its CSRF cookie, and the CSRF header on an unsafe method.
func (c carrier) request(method, path, tok string, typ latch.TokenType) request {
	if c.loc != latchhttp.InCookie {
		return request{method: method, path: path, token: tok}
	}
	csrf := latchhttp.CSRFToken(tok)
	hdr := map[string]string{"Cookie": tokenCookie[typ] + "=" + tok + "; " + csrfCookie[typ] + "=" + csrf}
	if method != "GET" {
		hdr["X-CSRF-Token"] = csrf
	}
	return request{method: method, path: path, header: hdr}
}

// issued reads the tokens of a login or refresh answer, which must be a
// 200: from the body, or from the cookies, whose CSRF cookies must go
// with them.
func (c carrier) issued(t *testing.T, h *harness, r *response) pair {
	t.Helper()
	if c.loc != latchhttp.InCookie {
		tk := h.decodeTokens(t, r)
		return pair{tk.AccessToken, tk.RefreshToken}
	}
	r.check(t, want{200, "", `{"expires_in":900,"token_type":"Bearer"}`})
	cs := setCookies(r)
	value := func(name string) string {
		if cs[name] == nil || cs[name].Value == "" {
			t.Fatalf("the answer set no cookie %s", name)
		}
		return cs[name].Value
	}
	p := pair{value(tokenCookie[latch.Access]), value(tokenCookie[latch.Refresh])}
	if value(csrfCookie[latch.Access]) != latchhttp.CSRFToken(p.access) || value(csrfCookie[latch.Refresh]) != latchhttp.CSRFToken(p.refresh) {
		t.Errorf("the CSRF cookies do not go with the token cookies")
	}
	return p
}

// anyOf returns one of the keys of m.
func anyOf(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}
