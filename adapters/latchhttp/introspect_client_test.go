package latchhttp_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// TestIntrospectionCaller: the endpoint answers only its authorized
// caller, decides that before it reads the body or the store, reports
// refusals to the event hook, and refuses everything else with the
// documented answers.
func TestIntrospectionCaller(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil)
	tok := e.Login(t, users["1"], "laptop")
	form := "token=" + url.QueryEscape(tok.AccessToken)
	h := e.web.IntrospectionHandler(latchhttp.BasicClient("svc:a", introspectionSecret))
	const challenge = `Basic realm="latch", charset="UTF-8"`

	gets, events := e.Store.Calls().Get, len(e.Events())
	for _, c := range []struct {
		name, id, secret string
		encode           bool
	}{
		{"wrong secret", "svc:a", introspectionSecret + "x", true},
		{"secret one byte short", "svc:a", introspectionSecret[:len(introspectionSecret)-1], true},
		{"wrong id", "svc:b", introspectionSecret, true},
		{"empty credentials", "", "", false},
		{"id unencoded holds the colon", "svc:a", introspectionSecret, false},
	} {
		w := introspect(h, c.id, c.secret, form, c.encode)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != challenge || w.Body.String() != "{\"msg\":\"Invalid client credentials\"}\n" {
			t.Errorf("%s: %d %q %s", c.name, w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
		}
	}
	r := httptest.NewRequest("POST", "/introspect", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken) // a user's token is no client credential
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != challenge {
		t.Errorf("bearer caller: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A refused caller's body is never read: a reader that fails the
	// test stands in for it.
	r = httptest.NewRequest("POST", "/introspect", failingReader{t})
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("svc:a", "wrong")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("wrong client with a body: %d", w.Code)
	}
	if g := e.Store.Calls().Get; g != gets {
		t.Errorf("refused callers read the store %d times", g-gets)
	}
	evs := e.Events()[events:]
	if len(evs) != 7 {
		t.Errorf("7 refused callers made %d events, want 7", len(evs))
	}
	for _, ev := range evs {
		if ev.Kind != latch.EventFailure || !errors.Is(ev.Err, latch.ErrInvalidClient) {
			t.Errorf("event for a refused caller: %+v", ev)
		}
	}

	// The right client, its parts form-encoded (RFC 6749 §2.3.1, where
	// '+' is a space) or not.
	if w := introspect(h, "svc:a", introspectionSecret, form, true); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("encoded credentials: %d %s", w.Code, w.Body)
	}
	spaced := e.web.IntrospectionHandler(latchhttp.BasicClient("svc a", introspectionSecret))
	if w := introspect(spaced, "svc+a", introspectionSecret, form, false); w.Code != 200 {
		t.Errorf("a space sent as '+': %d %s", w.Code, w.Body)
	}
	plain := e.web.IntrospectionHandler(latchhttp.BasicClient("svc", introspectionSecret))
	if w := introspect(plain, "svc", introspectionSecret, form, false); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("unencoded credentials: %d %s", w.Code, w.Body)
	}

	// An inactive token is reported too.
	events = len(e.Events())
	if w := introspect(plain, "svc", introspectionSecret, "token=nonsense", false); w.Code != 200 {
		t.Errorf("nonsense: %d", w.Code)
	}
	if evs := e.Events()[events:]; len(evs) != 1 || evs[0].Kind != latch.EventFailure || !errors.Is(evs[0].Err, latch.ErrInvalidToken) {
		t.Errorf("events for an inactive token: %+v", evs)
	}

	for _, c := range []struct {
		name, method, target, form string
		status                     int
		body                       string
	}{
		{"GET", "GET", "/introspect", "", 405, `{"msg":"Method not allowed"}`},
		{"no token", "POST", "/introspect", "token_type_hint=access_token", 400, `{"msg":"Invalid request"}`},
		{"empty token", "POST", "/introspect", "token=", 400, `{"msg":"Invalid request"}`},
		{"two tokens", "POST", "/introspect", form + "&token=x", 400, `{"msg":"Invalid request"}`},
		{"token in the URL", "POST", "/introspect?" + form, "", 400, `{"msg":"Invalid request"}`},
		{"unreadable form", "POST", "/introspect", "token=%zz", 400, `{"msg":"Invalid request"}`},
		{"body over MaxBodyBytes", "POST", "/introspect", form + "&pad=" + strings.Repeat("x", 64<<10), 413, `{"msg":"Request body too large"}`},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", introspectionSecret)
		w := httptest.NewRecorder()
		plain.ServeHTTP(w, r)
		if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.body)
		}
	}

	// An authorize function that reads the body reads it bounded.
	var readErr error
	greedy := e.web.IntrospectionHandler(func(r *http.Request) error {
		_, readErr = io.ReadAll(r.Body)
		return nil
	})
	if w := introspect(greedy, "svc", introspectionSecret, strings.Repeat("x", 64<<10+1), false); w.Code != 413 {
		t.Errorf("greedy authorize: %d", w.Code)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](readErr); !ok {
		t.Errorf("authorize read an unbounded body: %v", readErr)
	}

	// A store failure is 503, never "inactive": the caller cannot tell.
	e.Store.SetDown(true)
	w = introspect(plain, "svc", introspectionSecret, form, false)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("store down: %d %v %s", w.Code, w.Header(), w.Body)
	}
	e.Store.SetDown(false)

	// authorize functions of one's own: latch errors are answered as
	// such; any other error is invalid_client, without its text.
	deny := e.web.IntrospectionHandler(func(*http.Request) error { return latch.Forbidden("Not from this network") })
	if w := introspect(deny, "svc", introspectionSecret, form, false); w.Code != 403 || !strings.Contains(w.Body.String(), "Not from this network") {
		t.Errorf("Forbidden authorize: %d %s", w.Code, w.Body)
	}
	oops := e.web.IntrospectionHandler(func(*http.Request) error { return errors.New("mtls: no peer certificate from 10.1.2.3") })
	if w := introspect(oops, "svc", introspectionSecret, form, false); w.Code != 401 || strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Errorf("plain-error authorize: %d %s", w.Code, w.Body)
	}
}

// failingReader is a request body that must not be read.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the body of a refused caller was read")
	return 0, io.EOF
}

// TestBasicClientConstantWork: BasicClient makes the same four comparisons
// of equal-length digests whatever the credentials, right or wrong,
// encoded or not.
func TestBasicClientConstantWork(t *testing.T) {
	authorize := latchhttp.BasicClient("svc:a", introspectionSecret)
	for _, c := range []struct{ name, id, secret string }{
		{"right, encoded", url.QueryEscape("svc:a"), url.QueryEscape(introspectionSecret)},
		{"right, raw secret", url.QueryEscape("svc:a"), introspectionSecret},
		{"wrong id", "svc%3Ab", introspectionSecret},
		{"wrong secret", "svc%3Aa", "x"},
		{"both wrong and long", strings.Repeat("a", 300), strings.Repeat("%zz", 300)},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.id+":"+c.secret)))
		before := latchhttp.DoneWork()
		authorize(r)
		after := latchhttp.DoneWork()
		if n, m := after.Compares-before.Compares, after.Mismatched-before.Mismatched; n != 4 || m != 0 {
			t.Errorf("%s: %d comparisons, %d of different lengths; want 4 and 0", c.name, n, m)
		}
	}
}

// TestIntrospectionSetupPanics: a handler without an authorize function,
// or a client with an empty id or a short secret, fails at setup.
func TestIntrospectionSetupPanics(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	for name, f := range map[string]func(){
		"nil authorize": func() { e.web.IntrospectionHandler(nil) },
		"short secret":  func() { latchhttp.BasicClient("rs", introspectionSecret[:31]) },
		"empty id":      func() { latchhttp.BasicClient("", introspectionSecret) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	latchhttp.BasicClient("rs", introspectionSecret[:32]) // 32 bytes is enough
}
