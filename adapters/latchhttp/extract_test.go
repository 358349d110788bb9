package latchhttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

func TestConflictingLocations(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InHeader, latchhttp.InQuery, latchhttp.InJSON))
	a := e.Login(t, users["1"], "a")
	b := e.Login(t, users["1"], "b")
	cases := []struct {
		name   string
		target string
		hdr    map[string]string
		body   string
		status int
	}{
		{"header and query differ", "/protected?access_token=" + b.AccessToken, bearer(a.AccessToken), "", 400},
		{"header and query agree", "/protected?access_token=" + a.AccessToken, bearer(a.AccessToken), "", 200},
		{"query alone", "/protected?access_token=" + a.AccessToken, nil, "", 200},
		{"two query values", "/protected?access_token=" + a.AccessToken + "&access_token=" + a.AccessToken, nil, "", 400},
		{"header and body differ", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"access_token":"` + b.AccessToken + `"}`, 400},
		{"body alone", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":"` + a.AccessToken + `"}`, 200},
		{"body not an object", "/protected", map[string]string{"Content-Type": "application/json"}, `[1,2]`, 401},
		{"body not JSON", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":`, 400},
		{"header token, body an array", "/protected", bearer(a.AccessToken), `[1,2]`, 200},
		{"header token, body broken", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"x":`, 200},
		{"header token, body too large", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, 200},
		{"body token not a string", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":12}`, 400},
		{"body deeply nested", "/protected", map[string]string{"Content-Type": "application/json"}, strings.Repeat("[", 20000), 400},
		{"body too large", "/protected", map[string]string{"Content-Type": "application/json"}, `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"body not json", "/protected", map[string]string{"Content-Type": "text/plain"}, `{"access_token":"` + a.AccessToken + `"}`, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "GET"
			if c.body != "" {
				method = "POST"
			}
			w := do(e.handler(), method, c.target, c.hdr, c.body)
			if w.Code != c.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, c.status, w.Body)
			}
			if c.status == 400 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Errorf("WWW-Authenticate = %q, want invalid_request", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestQueryLocationOffByDefault(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "a")
	got := call(t, e, "GET", "/protected?access_token="+tk.AccessToken, nil, "")
	check(t, got, want{401, realm, "Missing authorization token"})
}

func TestBodyIsKeptForTheHandler(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InJSON))
	tk := e.Login(t, users["1"], "a")
	body := `{"access_token":"` + tk.AccessToken + `","note":"hello"}`
	var seen string
	h := e.web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := latchhttp.ReadBody(r, 1<<20)
		seen = string(b)
	}))
	w := do(h, "POST", "/", map[string]string{"Content-Type": "application/json"}, body)
	if w.Code != 200 || seen != body {
		t.Errorf("status %d, handler read %q, want %q", w.Code, seen, body)
	}
}

// A chunked body over the limit, next to a header token, reaches the
// handler whole and readable.
func TestOversizedChunkedBodyStaysReadable(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InHeader, latchhttp.InJSON))
	tk := e.Login(t, users["1"], "a")
	body := `{"x":"` + strings.Repeat("a", 100<<10) + `"}`
	var got int
	var readErr error
	h := e.web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		got, readErr = len(b), err
	}))
	for _, withToken := range []bool{true, false} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.ContentLength = -1 // as a chunked upload arrives
		r.Header.Set("Content-Type", "application/json")
		if withToken {
			r.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case withToken && (w.Code != 200 || got != len(body) || readErr != nil):
			t.Errorf("with a header token: %d, handler read %d of %d bytes, %v", w.Code, got, len(body), readErr)
		case !withToken && w.Code != 413:
			t.Errorf("without a token: %d, want 413", w.Code)
		}
	}
}
