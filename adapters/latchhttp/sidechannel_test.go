package latchhttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/srccheck"
)

// cost is the work one request did: latchhttp's constant-time comparisons
// of secrets, the ones among them whose arguments differed in length
// (subtle.ConstantTimeCompare returns at once on those), and store reads.
type cost struct {
	compares   int64
	gets       int
	mismatched int64
}

func measure(e *env, fn func()) cost {
	w0, g0 := latchhttp.DoneWork(), e.Store.Calls().Get
	fn()
	w1, g1 := latchhttp.DoneWork(), e.Store.Calls().Get
	return cost{w1.Compares - w0.Compares, g1 - g0, w1.Mismatched - w0.Mismatched}
}

// TestCSRFComparedInConstantTime: a cookie-borne token's CSRF header is
// always compared through secretCompare, whether it is right, wrong or
// missing, and only the whole value passes: near misses (the last
// character changed, one more or one fewer, a prefix added) are 403s that
// never reach the store. The CSRF value's length is public (every one is
// 32 characters), so a header of another length may end the comparison
// early. (The token's own check, once the CSRF header passed, costs what
// the core's TestUnknownSessionCostsTheSame counts.)
func TestCSRFComparedInConstantTime(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InCookie))
	tk := e.Login(t, users["1"], "a")
	cookie := cookieHeader(e, tk)
	right := latchhttp.CSRFToken(tk.AccessToken)
	flipped := right[:len(right)-1] + map[bool]string{true: "B", false: "A"}[right[len(right)-1] == 'A']
	for _, c := range []struct {
		name, csrf string
		status     int
		want       cost
	}{
		{"right", right, 200, cost{1, 1, 0}},
		{"wrong", latchhttp.CSRFToken(tk.RefreshToken), 403, cost{1, 0, 0}},
		{"missing", "", 403, cost{1, 0, 1}},
		{"last character changed", flipped, 403, cost{1, 0, 0}},
		{"one character more", right + "A", 403, cost{1, 0, 1}},
		{"one character fewer", right[:len(right)-1], 403, cost{1, 0, 1}},
		{"prefix added", "A" + right, 403, cost{1, 0, 1}},
	} {
		hdr := map[string]string{"Cookie": cookie}
		if c.csrf != "" {
			hdr["X-CSRF-Token"] = c.csrf
		}
		var status int
		if got := measure(e, func() { status = do(e.handler(), "POST", "/protected", hdr, "").Code }); got != c.want {
			t.Errorf("%s CSRF header: cost %+v, want %+v", c.name, got, c.want)
		}
		if status != c.status {
			t.Errorf("%s CSRF header: status %d, want %d", c.name, status, c.status)
		}
	}
}

// cookieHeader returns a Cookie header carrying t as SetCookies sets it.
func cookieHeader(e *env, t *latch.Tokens) string {
	w := httptest.NewRecorder()
	e.web.SetCookies(w, t)
	var parts []string
	for _, c := range w.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSecretComparisonsAreConstantTime: latchhttp's one comparison
// function is subtle.ConstantTimeCompare, and its code compares nothing
// with bytes.Equal, hmac.Equal or a second crypto/subtle call beside it.
func TestSecretComparisonsAreConstantTime(t *testing.T) {
	if !latchhttp.CompareIsConstantTime {
		t.Error("secretCompare is not subtle.ConstantTimeCompare")
	}
	if n := srccheck.SubtleUses(t, "."); n != 1 {
		t.Errorf("crypto/subtle is used %d times; every comparison should go through secretCompare", n)
	}
}

// TestNoParallelTests: no test of this package calls t.Parallel, since
// the work counters of export_test.go are global.
func TestNoParallelTests(t *testing.T) { srccheck.NoParallel(t, ".") }
