package latch_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// TestMain records every token the suite's Auths issue (latch calls the
// issued hook from the one place that mints tokens), so that each test env
// can scan what it logged and every error it reported for them; a leak
// fails the test that made it, and the run. Auths made without newEnv log
// to slog.Default, which is scanned too, at Debug level.
func TestMain(m *testing.M) {
	latch.SetIssuedHook(leaks.addTokens)
	if key, err := base64.StdEncoding.DecodeString(testSecret); err == nil {
		leaks.addEncodings(key, "the JWT signing key")
	}
	defaultLog := &leakLog{}
	slog.SetDefault(slog.New(slog.NewTextHandler(defaultLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	for _, what := range defaultLog.leaked {
		fmt.Fprintf(os.Stderr, "leak in slog.Default: %s\n", what)
	}
	if testing.Verbose() {
		fmt.Printf("leak scan: %d token pairs issued, %d log lines and error messages scanned\n", leaks.tokens.Load(), leaks.scanned.Load())
	}
	if n := leaks.found.Load(); n > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d log lines or error messages carried a token, a secret or a hash\n", n)
		code = 1
	}
	os.Exit(code)
}

// leaks holds every secret the suite handed out, as the strings that must
// never appear in a log line or an error message: each token's secret
// part (its opaque secret, a JWT's signature, a JWT refresh token's jti),
// which any copy of the whole token contains, and the hex and base64 of
// the secret's SHA-256 (what stores keep) and of the token's.
var leaks = &leakIndex{needles: map[string]string{}}

type leakIndex struct {
	mu      sync.Mutex
	needles map[string]string // needle -> what it is, for the report
	lengths []int             // the needles' lengths, ascending
	found   atomic.Int64      // leaks seen, for TestMain
	tokens  atomic.Int64      // tokens indexed
	scanned atomic.Int64      // texts scanned
}

func (x *leakIndex) add(needle, what string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.needles[needle]; ok {
		return
	}
	x.needles[needle] = what
	n := len(needle)
	i := sort.SearchInts(x.lengths, n)
	if i == len(x.lengths) || x.lengths[i] != n {
		x.lengths = append(x.lengths[:i], append([]int{n}, x.lengths[i:]...)...)
	}
}

// addEncodings adds b in hex and in every base64 alphabet.
func (x *leakIndex) addEncodings(b []byte, what string) {
	h := hex.EncodeToString(b)
	x.add(h, what+" (hex)")
	x.add(strings.ToUpper(h), what+" (HEX)")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		x.add(enc.EncodeToString(b), what+" (base64)")
	}
}

func (x *leakIndex) addTokens(t *latch.Tokens) {
	x.tokens.Add(1)
	x.addToken(t.AccessToken, "access token")
	x.addToken(t.RefreshToken, "refresh token")
}

// secretOf returns the secret part of an opaque token: what follows the
// prefix and the session id, up to the checksum.
func secretOf(tok string) string {
	start := len(opaque.PrefixAccess) + store.IDLen
	return tok[start : start+43]
}

func (x *leakIndex) addToken(tok, what string) {
	if tok == "" {
		return
	}
	sum := sha256.Sum256([]byte(tok))
	x.addEncodings(sum[:], "SHA-256 of the "+what)
	if opaque.Is(tok) {
		secret := secretOf(tok)
		x.add(secret, "secret of the "+what)
		x.addEncodings(opaque.HashSecret(secret), "hash of the secret of the "+what)
		return
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return
	}
	x.add(parts[2], "signature of the "+what)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return
	}
	var c struct {
		ID   string `json:"jti"`
		Type string `json:"type"`
	}
	if json.Unmarshal(payload, &c) == nil && c.Type == string(latch.Refresh) && c.ID != "" {
		// A JWT refresh token's jti is its secret.
		x.add(c.ID, "jti (secret) of the "+what)
		x.addEncodings(opaque.HashSecret(c.ID), "hash of the jti of the "+what)
	}
}

// scan returns what of the index s contains. Only runs of RFC 6750
// token characters can hold a needle, and most text has none as long as
// the shortest needle, so a log line costs next to nothing.
func (x *leakIndex) scan(s string) []string {
	x.scanned.Add(1)
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.lengths) == 0 {
		return nil
	}
	var out []string
	minLen := x.lengths[0]
	for i := 0; i < len(s); {
		if !latch.IsTokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && latch.IsTokenChar(s[j]) {
			j++
		}
		run := s[i:j]
		i = j
		if len(run) < minLen {
			continue
		}
		for _, n := range x.lengths {
			for k := 0; k+n <= len(run); k++ {
				if what, ok := x.needles[run[k:k+n]]; ok {
					out = append(out, what)
				}
			}
		}
	}
	if len(out) > 0 {
		x.found.Add(int64(len(out)))
	}
	return out
}

// leakLog is an env's log: it keeps the first maxLog bytes for the tests
// to read, and scans every line, however many, as it is written.
type leakLog struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	leaked []string // what was found, never the secret itself
}

const maxLog = 1 << 20

func (l *leakLog) Write(p []byte) (int, error) {
	found := leaks.scan(string(p))
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range found {
		l.leaked = append(l.leaked, "a log line carries the "+what)
	}
	if l.buf.Len() < maxLog {
		l.buf.Write(p)
	}
	return len(p), nil
}

// observe scans an error the env reported.
func (l *leakLog) observe(err error) {
	if err == nil {
		return
	}
	found := leaks.scan(err.Error())
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range found {
		l.leaked = append(l.leaked, "an error message carries the "+what)
	}
}

func (l *leakLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// check fails t for each leak seen, naming what leaked but not its value.
func (l *leakLog) check(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range l.leaked {
		t.Errorf("leak: %s", what)
	}
}

// take returns and forgets the leaks seen so far, for the test of the
// scanner itself.
func (l *leakLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.leaked
	l.leaked = nil
	leaks.found.Add(-int64(len(out)))
	return out
}

// TestLogScanCatchesLeaks checks the check: in every mode, a log line or
// an error carrying an issued token, its secret part, or the hex or base64
// of the hash a store keeps for it, is caught.
func TestLogScanCatchesLeaks(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.login(t, users["1"], "scan")
			if got := e.logs.take(); len(got) != 0 {
				t.Fatalf("a login leaked: %v", got)
			}
			plant := map[string]string{"whole access token": tk.AccessToken, "whole refresh token": tk.RefreshToken}
			refreshSecret := ""
			if opaque.Is(tk.RefreshToken) {
				refreshSecret = secretOf(tk.RefreshToken)
			} else {
				var c struct {
					ID string `json:"jti"`
				}
				payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tk.RefreshToken, ".")[1])
				if err := json.Unmarshal(payload, &c); err != nil {
					t.Fatal(err)
				}
				refreshSecret = c.ID
			}
			h := opaque.HashSecret(refreshSecret)
			plant["refresh secret"] = refreshSecret
			plant["refresh hash, hex"] = hex.EncodeToString(h)
			plant["refresh hash, base64"] = base64.StdEncoding.EncodeToString(h)
			plant["refresh hash, base64url"] = base64.RawURLEncoding.EncodeToString(h)
			if opaque.Is(tk.AccessToken) {
				plant["access secret"] = secretOf(tk.AccessToken)
				plant["access hash, hex"] = hex.EncodeToString(opaque.HashSecret(secretOf(tk.AccessToken)))
			} else {
				plant["access signature"] = tk.AccessToken[strings.LastIndexByte(tk.AccessToken, '.')+1:]
			}
			for name, v := range plant {
				fmt.Fprintf(e.logs, "level=INFO msg=planted value=%s\n", v)
				if got := e.logs.take(); len(got) == 0 {
					t.Errorf("a log line with the %s went unnoticed", name)
				}
				e.logs.observe(fmt.Errorf("latch: planted %q", v))
				if got := e.logs.take(); len(got) == 0 {
					t.Errorf("an error with the %s went unnoticed", name)
				}
			}
		})
	}
}

// secretsOf indexes what of tok must never be shown: the token, its secret
// part, and the hex and base64 of its hashes.
func secretsOf(toks ...string) *leakIndex {
	x := &leakIndex{needles: map[string]string{}}
	for _, tok := range toks {
		x.add(tok, "presented token")
		x.addToken(tok, "presented token")
	}
	return x
}

// TestErrorsCarryNoSecrets walks the main failure paths in every mode and
// checks that neither the error, nor the answer the middleware writes for
// it, carries the token presented, its secret part, or a hash of either.
func TestErrorsCarryNoSecrets(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			h := e.handler()
			check := func(what, tok string, err error) {
				t.Helper()
				if err == nil {
					t.Errorf("%s: no error", what)
					return
				}
				x := secretsOf(tok)
				if found := x.scan(err.Error()); len(found) > 0 {
					t.Errorf("%s: the error carries the %v", what, found)
				}
				if found := x.scan(fmt.Sprintf("%+v %#v", err, err)); len(found) > 0 {
					t.Errorf("%s: the error formatted with %%+v or %%#v carries the %v", what, found)
				}
				w := do(h, "GET", "/protected", bearer(tok), "")
				if found := x.scan(w.Body.String() + fmt.Sprint(w.Header())); len(found) > 0 {
					t.Errorf("%s: the %d answer carries the %v", what, w.Code, found)
				}
			}
			verify := func(what, tok string, typ latch.TokenType) {
				t.Helper()
				_, err := e.auth.Verify(bg, tok, typ)
				check("Verify "+what, tok, err)
			}

			tk := e.login(t, users["1"], "a")
			flip := func(s string) string {
				b := []byte(s)
				if b[len(b)-2] == 'A' {
					b[len(b)-2] = 'B'
				} else {
					b[len(b)-2] = 'A'
				}
				return string(b)
			}
			verify("bad checksum or signature", flip(tk.AccessToken), latch.Access)
			verify("refresh token as access token", tk.RefreshToken, latch.Access)
			verify("access token as refresh token", tk.AccessToken, latch.Refresh)
			verify("wrong refresh secret", wrongSecret(t, e, tk.RefreshToken), latch.Refresh)
			verify("unknown session", unknownSession(t, e, tk.RefreshToken), latch.Refresh)
			if mode == latch.ModeOpaque {
				verify("wrong access secret", wrongSecret(t, e, tk.AccessToken), latch.Access)
				verify("unknown session", unknownSession(t, e, tk.AccessToken), latch.Access)
			}
			_, err := e.auth.Refresh(bg, flip(tk.RefreshToken))
			check("Refresh with a bad checksum or signature", flip(tk.RefreshToken), err)
			check("Revoke of a bad token", flip(tk.AccessToken), e.auth.Revoke(bg, flip(tk.AccessToken)))

			// Store failure.
			e.store.SetDown(true)
			verify("with the store down", tk.RefreshToken, latch.Refresh)
			_, err = e.auth.Refresh(bg, tk.RefreshToken)
			check("Refresh with the store down", tk.RefreshToken, err)
			check("Revoke with the store down", tk.RefreshToken, e.auth.Revoke(bg, tk.RefreshToken))
			if mode == latch.ModeOpaque {
				verify("with the store down", tk.AccessToken, latch.Access)
			}
			e.store.SetDown(false)

			// A refresh race, then a replay.
			next, err := e.auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.auth.Refresh(bg, tk.RefreshToken)
			check("Refresh race", tk.RefreshToken, err)
			e.clock.Add(time.Minute)
			_, err = e.auth.Refresh(bg, tk.RefreshToken)
			check("reused refresh token", tk.RefreshToken, err)
			if mode == latch.ModeOpaque { // a JWT stays valid without a session check
				verify("access token of a revoked session", next.AccessToken, latch.Access)
			}
			_, err = e.auth.Refresh(bg, next.RefreshToken)
			check("refresh token of a revoked session", next.RefreshToken, err)

			// Expiry.
			tk = e.login(t, users["1"], "b")
			e.clock.Add(latch.DefaultAccessTTL + time.Minute)
			verify("expired access token", tk.AccessToken, latch.Access)
		})
	}
}
