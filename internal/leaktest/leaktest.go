// Package leaktest checks, for the tests of this module, that no token
// latch issues reaches a log line or an error message: not the token, not
// its secret part, not the hex or base64 of its hash.
//
// A test binary's TestMain calls Main, which records every token latch
// mints (through internal/testhook) and scans slog.Default. Each test
// logs to a Log of its own, which scans every line as it is written, and
// hands it the errors it sees (Observe); Log.Check fails the test for any
// leak, and Main fails the run.
package leaktest

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

	"github.com/latchauth/latch/internal/b64token"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/internal/testhook"
	"github.com/latchauth/latch/store"
)

// Main runs the tests of m with every issued token recorded, and the
// given keys (a JWT signing key, say) among the secrets to look for;
// slog.Default logs, at Debug level, to a Log that is scanned too. The
// run fails if any log line or error message carried a secret. Main does
// not return.
func Main(m *testing.M, keys ...[]byte) {
	testhook.Issued = issue
	for _, k := range keys {
		issued.AddEncodings(k, "a key")
	}
	defaultLog := &Log{}
	slog.SetDefault(slog.New(slog.NewTextHandler(defaultLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	for _, what := range defaultLog.leaked {
		fmt.Fprintf(os.Stderr, "leak in slog.Default: %s\n", what)
	}
	if testing.Verbose() {
		fmt.Printf("leak scan: %d token pairs issued, %d log lines and error messages scanned\n",
			issued.tokens.Load(), issued.scanned.Load())
	}
	if n := issued.found.Load(); n > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d log lines or error messages carried a token, a secret or a hash\n", n)
		code = 1
	}
	os.Exit(code)
}

// issued holds every secret latch handed out in this test binary.
var issued = NewIndex()

func issue(access, refresh string) {
	issued.tokens.Add(1)
	issued.AddToken(access, "access token")
	issued.AddToken(refresh, "refresh token")
}

// Off stops recording issued tokens until tb ends, for benchmarks, which
// mint too many for the index to hold.
func Off(tb testing.TB) {
	testhook.Issued = nil
	tb.Cleanup(func() { testhook.Issued = issue })
}

// Index holds secrets, as the strings that must never appear in a log
// line or an error message: each token's secret part (its opaque secret,
// a JWT's signature, a JWT refresh token's jti), which any copy of the
// whole token contains, and the hex and base64 of the secret's SHA-256
// (what stores keep) and of the token's.
type Index struct {
	mu      sync.Mutex
	needles map[string]string // needle -> what it is, for the report
	lengths []int             // the needles' lengths, ascending
	found   atomic.Int64      // leaks seen
	tokens  atomic.Int64      // token pairs indexed
	scanned atomic.Int64      // texts scanned
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{needles: map[string]string{}} }

// SecretsOf indexes what of each token must never be shown: the token,
// its secret part, and the hex and base64 of its hashes.
func SecretsOf(toks ...string) *Index {
	x := NewIndex()
	for _, tok := range toks {
		x.Add(tok, "presented token")
		x.AddToken(tok, "presented token")
	}
	return x
}

// Add adds needle, described as what.
func (x *Index) Add(needle, what string) {
	if needle == "" {
		return
	}
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

// AddEncodings adds b in hex and in every base64 alphabet.
func (x *Index) AddEncodings(b []byte, what string) {
	h := hex.EncodeToString(b)
	x.Add(h, what+" (hex)")
	x.Add(strings.ToUpper(h), what+" (HEX)")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		x.Add(enc.EncodeToString(b), what+" (base64)")
	}
}

// AddToken adds the secrets of tok, a token latch issued.
func (x *Index) AddToken(tok, what string) {
	if tok == "" {
		return
	}
	sum := sha256.Sum256([]byte(tok))
	x.AddEncodings(sum[:], "SHA-256 of the "+what)
	if opaque.Is(tok) {
		secret := OpaqueSecret(tok)
		x.Add(secret, "secret of the "+what)
		x.AddEncodings(opaque.HashSecret(secret), "hash of the secret of the "+what)
		return
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return
	}
	x.Add(parts[2], "signature of the "+what)
	if jti := RefreshJTI(tok); jti != "" {
		x.Add(jti, "jti (secret) of the "+what)
		x.AddEncodings(opaque.HashSecret(jti), "hash of the jti of the "+what)
	}
}

// OpaqueSecret returns the secret part of an opaque token: what follows
// the prefix and the session id, up to the 6-character checksum.
func OpaqueSecret(tok string) string {
	return tok[len(opaque.PrefixAccess)+store.IDLen : opaque.Len-6]
}

// RefreshJTI returns the jti of a JWT refresh token, its secret, or ""
// for any other token. It reads the payload without checking anything.
func RefreshJTI(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		ID   string `json:"jti"`
		Type string `json:"type"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Type != "refresh" {
		return ""
	}
	return c.ID
}

// Scan returns what of the index s contains. Only runs of RFC 6750 token
// characters can hold a needle, and most text has none as long as the
// shortest needle, so a log line costs next to nothing.
func (x *Index) Scan(s string) []string {
	x.scanned.Add(1)
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.lengths) == 0 {
		return nil
	}
	var out []string
	minLen := x.lengths[0]
	for _, run := range Runs(s) {
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

// Runs returns the maximal runs of RFC 6750 b64token characters in s:
// the only places a token, or a part of one, can hide.
func Runs(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !b64token.IsChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && b64token.IsChar(s[j]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// Log is a test's log: it keeps the first MaxLog bytes for the test to
// read, and scans every line, however many, for every issued secret as
// it is written. The zero Log is ready to use.
type Log struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	leaked []string // what was found, never the secret itself
}

// MaxLog is how much of its log a Log keeps.
const MaxLog = 1 << 20

func (l *Log) Write(p []byte) (int, error) {
	found := issued.Scan(string(p))
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range found {
		l.leaked = append(l.leaked, "a log line carries the "+what)
	}
	if l.buf.Len() < MaxLog {
		l.buf.Write(p)
	}
	return len(p), nil
}

// Observe scans an error the test saw.
func (l *Log) Observe(err error) {
	if err == nil {
		return
	}
	found := issued.Scan(err.Error())
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range found {
		l.leaked = append(l.leaked, "an error message carries the "+what)
	}
}

// String returns what was logged (its first MaxLog bytes).
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Check fails t for each leak seen, naming what leaked but not its value.
func (l *Log) Check(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, what := range l.leaked {
		t.Errorf("leak: %s", what)
	}
}

// Take returns and forgets the leaks seen so far, so that they fail
// neither the test nor the run: for the test of the scanner itself.
func (l *Log) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.leaked
	l.leaked = nil
	issued.found.Add(-int64(len(out)))
	return out
}
