package latch_test

import (
	"errors"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// cost is the work one call did: constant-time comparisons of secrets,
// hashes of presented secrets, store reads, and the comparisons whose
// arguments differed in length. subtle.ConstantTimeCompare returns at once
// on a length mismatch, so such a comparison is no work at all: comparing
// a presented hash with a missing (nil) dummy hash would be one.
type cost struct {
	compares, hashes int64
	gets             int
	mismatched       int64
}

func measure(e *env, fn func()) cost {
	w0, g0 := latch.DoneWork(), e.store.Calls().Get
	fn()
	w1, g1 := latch.DoneWork(), e.store.Calls().Get
	return cost{w1.Compares - w0.Compares, w1.Hashes - w0.Hashes, g1 - g0, w1.Mismatched - w0.Mismatched}
}

// signJWT signs c with e's keys: a token with a valid signature that latch
// never issued.
func signJWT(t *testing.T, e *env, c *token.Claims) string {
	t.Helper()
	out, err := e.auth.Keyring().Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// forgeJWT re-signs the claims of tok, a token e issued, after edit.
func forgeJWT(t *testing.T, e *env, tok string, edit func(*token.Claims)) string {
	t.Helper()
	c, err := e.auth.Keyring().Verify(tok, token.VerifyOptions{Now: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	return signJWT(t, e, c)
}

// wrongSecret and unknownSession forge tokens of tok's type: the same
// session with another secret, and another (valid, unknown) session id
// with a fresh secret. Both carry a valid checksum or signature.
func wrongSecret(t *testing.T, e *env, tok string) string {
	t.Helper()
	secret, _ := opaque.NewSecret()
	if opaque.Is(tok) {
		return opaque.Format(tok[:len(opaque.PrefixAccess)], tok[len(opaque.PrefixAccess):len(opaque.PrefixAccess)+store.IDLen], secret)
	}
	return forgeJWT(t, e, tok, func(c *token.Claims) { c.ID = secret })
}

func unknownSession(t *testing.T, e *env, tok string) string {
	t.Helper()
	secret, _ := opaque.NewSecret()
	if opaque.Is(tok) {
		return opaque.Format(tok[:len(opaque.PrefixAccess)], store.NewID(), secret)
	}
	return forgeJWT(t, e, tok, func(c *token.Claims) { c.SessionID, c.ID = store.NewID(), secret })
}

// TestUnknownSessionCostsTheSame: a token naming a session that does not
// exist costs the same secret comparisons, hashes and store reads as one
// with a wrong secret, and as the right one, and every comparison is of
// two full-length hashes (a dummy one where the session has none), so
// latch's own work does not tell a live session id from a dead one. The
// store's read of a live and of a missing session may still differ in
// time; that is the store's. Counted, not timed: every comparison goes
// through secretCompare and every hash through hashSecret or parseOpaque.
func TestUnknownSessionCostsTheSame(t *testing.T) {
	const keepSpent = 3
	keep := func(c *latch.Config) { c.KeepSpent = keepSpent }

	t.Run("opaque-access", func(t *testing.T) {
		e := newEnv(t, latch.ModeOpaque, keep)
		tk := e.login(t, users["1"], "a")
		want := cost{1, 1, 1, 0}
		for _, c := range []struct {
			name, tok string
			err       error
		}{
			{"unknown session", unknownSession(t, e, tk.AccessToken), latch.ErrTokenRevoked},
			{"wrong secret", wrongSecret(t, e, tk.AccessToken), latch.ErrTokenRevoked},
			{"right token", tk.AccessToken, nil},
		} {
			var err error
			if got := measure(e, func() { _, err = e.auth.Verify(bg, c.tok, latch.Access) }); got != want {
				t.Errorf("%s: cost %+v, want %+v", c.name, got, want)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			}
		}
	})

	for _, mode := range modes {
		t.Run("refresh-"+string(mode), func(t *testing.T) {
			e := newEnv(t, mode, keep)
			// Every refresh token is checked against the current hash and
			// keepSpent spent ones, real or dummy.
			want := cost{keepSpent + 1, 1, 1, 0}
			spent := e.login(t, users["1"], "a")
			tk, err := e.auth.Refresh(bg, spent.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(time.Minute) // past the reuse grace: a spent token is a replay
			type tc struct {
				name, tok string
				err       error
			}
			for _, c := range []tc{
				{"unknown session", unknownSession(t, e, tk.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", wrongSecret(t, e, tk.RefreshToken), latch.ErrTokenRevoked},
				{"right token", tk.RefreshToken, nil},
				{"spent token", spent.RefreshToken, latch.ErrRefreshReused}, // last: it revokes the session
			} {
				var err error
				if got := measure(e, func() { _, err = e.auth.Verify(bg, c.tok, latch.Refresh) }); got != want {
					t.Errorf("Verify, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("Verify, %s: error %v, want %v", c.name, err, c.err)
				}
			}
			// Refresh spends the same work before it rotates.
			tk = e.login(t, users["1"], "b")
			for _, c := range []tc{
				{"unknown session", unknownSession(t, e, tk.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", wrongSecret(t, e, tk.RefreshToken), latch.ErrTokenRevoked},
				{"right token", tk.RefreshToken, nil},
			} {
				var err error
				if got := measure(e, func() { _, err = e.auth.Refresh(bg, c.tok) }); got != want {
					t.Errorf("Refresh, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("Refresh, %s: error %v, want %v", c.name, err, c.err)
				}
			}
		})
	}

	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run("jwt-access-session-check-"+string(mode), func(t *testing.T) {
			// A JWT's session id is signed, so there is no secret to
			// compare: a known and an unknown session cost one store read
			// and nothing else.
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.login(t, users["1"], "a")
			want := cost{0, 0, 1, 0}
			for _, c := range []struct {
				name, tok string
				err       error
			}{
				{"unknown session", forgeJWT(t, e, tk.AccessToken, func(c *token.Claims) { c.SessionID = store.NewID() }), latch.ErrTokenRevoked},
				{"right token", tk.AccessToken, nil},
			} {
				var err error
				if got := measure(e, func() { _, err = e.auth.Verify(bg, c.tok, latch.Access) }); got != want {
					t.Errorf("%s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("%s: error %v, want %v", c.name, err, c.err)
				}
			}
		})
	}
}

// TestCSRFComparedInConstantTime: a cookie-borne token's CSRF header is
// always compared through secretCompare, whether it is right, wrong or
// missing, and only the whole value passes: near misses (the last
// character changed, one more or one fewer, a prefix added) are 403s.
// The CSRF value's length is public (every one is 32 characters), so a
// header of another length may end the comparison early.
func TestCSRFComparedInConstantTime(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) { c.HTTP.Locations = []latch.Location{latch.InCookie} })
	tk := e.login(t, users["1"], "a")
	cookie := cookieHeader(e, tk)
	right := latch.CSRFToken(tk.AccessToken)
	flipped := right[:len(right)-1] + map[bool]string{true: "B", false: "A"}[right[len(right)-1] == 'A']
	for _, c := range []struct {
		name, csrf string
		status     int
		want       cost // the CSRF comparison, then the token's own
	}{
		{"right", right, 200, cost{2, 1, 1, 0}},
		{"wrong", latch.CSRFToken(tk.RefreshToken), 403, cost{1, 0, 0, 0}},
		{"missing", "", 403, cost{1, 0, 0, 1}},
		{"last character changed", flipped, 403, cost{1, 0, 0, 0}},
		{"one character more", right + "A", 403, cost{1, 0, 0, 1}},
		{"one character fewer", right[:len(right)-1], 403, cost{1, 0, 0, 1}},
		{"prefix added", "A" + right, 403, cost{1, 0, 0, 1}},
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
	e.auth.SetCookies(w, t)
	var parts []string
	for _, c := range w.Result().Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSecretComparisonsAreConstantTime: the one comparison function is
// subtle.ConstantTimeCompare, and the package's code compares nothing with
// bytes.Equal, hmac.Equal or a second crypto/subtle call beside it.
func TestSecretComparisonsAreConstantTime(t *testing.T) {
	if !latch.CompareIsConstantTime {
		t.Error("secretCompare is not subtle.ConstantTimeCompare")
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	subtleUses := 0
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "bytes.Equal", "bytes.Compare", "hmac.Equal":
				t.Errorf("%s: %s.%s: compare secrets with secretCompare", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
			}
			if pkg.Name == "subtle" {
				subtleUses++
			}
			return true
		})
	}
	if subtleUses != 1 {
		t.Errorf("crypto/subtle is used %d times; every comparison should go through secretCompare", subtleUses)
	}
}

// TestSpentHashesBeyondKeepSpent: a session whose store holds more spent
// refresh hashes than KeepSpent now allows (KeepSpent was lowered since)
// costs exactly KeepSpent+1 comparisons, like an unknown session, and
// the spent hashes past KeepSpent are not compared at all: replaying the
// oldest spent token is no reuse, just an unknown secret, and the session
// lives on.
func TestSpentHashesBeyondKeepSpent(t *testing.T) {
	const before, after = 5, 2
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.KeepSpent = before })
			tokens := []*latch.Tokens{e.login(t, users["1"], "a")}
			for range before {
				tk, err := e.auth.Refresh(bg, tokens[len(tokens)-1].RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, tk)
			}
			oldest, newest, current := tokens[0], tokens[len(tokens)-2], tokens[len(tokens)-1]
			s, err := e.store.Get(bg, current.SessionID, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Spent) != before {
				t.Fatalf("the store holds %d spent hashes, want %d", len(s.Spent), before)
			}

			// The same store, KeepSpent lowered.
			cfg := e.auth.Config()
			cfg.KeepSpent = after
			a, err := latch.New(cfg, latch.WithStore(e.store), latch.WithClock(e.clock.Now), latch.WithKeyring(e.auth.Keyring()))
			if err != nil {
				t.Fatal(err)
			}
			lowered := *e
			lowered.auth = a
			e.clock.Add(time.Minute) // past the reuse grace: a spent token is a replay

			want := cost{after + 1, 1, 1, 0}
			writes := e.store.Calls().Writes()
			for _, c := range []struct {
				name, tok string
				err       error
			}{
				{"unknown session", unknownSession(t, e, current.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", wrongSecret(t, e, current.RefreshToken), latch.ErrTokenRevoked},
				{"right token", current.RefreshToken, nil},
				{"oldest spent token", oldest.RefreshToken, latch.ErrTokenRevoked},
			} {
				var err error
				if got := measure(&lowered, func() { _, err = a.Verify(bg, c.tok, latch.Refresh) }); got != want {
					t.Errorf("Verify, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) || errors.Is(err, latch.ErrRefreshReused) {
					t.Errorf("Verify, %s: error %v, want %v", c.name, err, c.err)
				}
			}
			// Refresh with the oldest spent token: the answer an unknown
			// secret gets, nothing written, no reuse detected.
			var err2 error
			if got := measure(&lowered, func() { _, err2 = a.Refresh(bg, oldest.RefreshToken) }); got != want {
				t.Errorf("Refresh, oldest spent token: cost %+v, want %+v", got, want)
			}
			if !errors.Is(err2, latch.ErrTokenRevoked) || errors.Is(err2, latch.ErrRefreshReused) {
				t.Errorf("Refresh, oldest spent token: %v, want ErrTokenRevoked without reuse", err2)
			}
			if n := e.store.Calls().Writes(); n != writes {
				t.Errorf("replaying the oldest spent token wrote to the store %d times", n-writes)
			}
			if _, err := a.Verify(bg, current.RefreshToken, latch.Refresh); err != nil {
				t.Errorf("after replaying the oldest spent token, the session ended: %v", err)
			}
			// A spent token KeepSpent still covers is reuse: it ends the
			// session, at the same cost.
			var err3 error
			if got := measure(&lowered, func() { _, err3 = a.Verify(bg, newest.RefreshToken, latch.Refresh) }); got != want {
				t.Errorf("Verify, newest spent token: cost %+v, want %+v", got, want)
			}
			if !errors.Is(err3, latch.ErrRefreshReused) {
				t.Errorf("Verify, newest spent token: %v, want ErrRefreshReused", err3)
			}
			if _, err := a.Verify(bg, current.RefreshToken, latch.Refresh); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("after reuse, the current token: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// TestNoParallelTests: no test of this package calls t.Parallel. The
// work counters of export_test.go are global, and a test reads them as
// the work of its own call; a test running beside it would add to them.
func TestNoParallelTests(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Parallel" && len(call.Args) == 0 {
				t.Errorf("%s: %s calls Parallel; the work counters in export_test.go are global, so this package's tests run one at a time",
					fset.Position(call.Pos()), name)
			}
			return true
		})
	}
}
