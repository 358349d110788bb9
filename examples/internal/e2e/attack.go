package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
	"github.com/latchauth/latch/token"
)

// Answers an attacker gets. The body of an expired token is the
// walkthrough's expired_token_loader's.
var (
	refusedInvalid   = want{401, invalidToken("Invalid token"), `{"msg":"Invalid token"}`}
	refusedMalformed = want{401, invalidToken("Malformed token"), `{"msg":"Malformed token"}`}
	refusedEnded     = want{401, invalidToken("Session has ended"), sessionEnded}
	refusedWrongType = want{401, invalidToken("Wrong token type"), `{"msg":"Wrong token type"}`}
	refusedExpired   = want{401, invalidToken("Token has expired"), daveBody}
	refusedRaceLost  = want{401, invalidToken("Refresh token already used"), `{"msg":"Refresh token already used"}`}
	refusedNoToken   = want{401, realm, missingToken}
	refusedCSRF      = want{403, "", `{"msg":"CSRF token missing or incorrect"}`}
	refusedConflict  = want{400, `Bearer realm="latch", error="invalid_request", error_description="Different tokens in more than one location"`,
		`{"msg":"Different tokens in more than one location"}`}
	refusedBadRequest = want{400, `Bearer realm="latch", error="invalid_request", error_description="Invalid request"`, `{"msg":"Invalid request"}`}
	refusedTooLarge   = want{413, "", `{"msg":"Request body too large"}`}
	servedTest        = want{200, "", loggedInAs("1")}
)

// attackSetup is one configuration an attack runs against.
type attackSetup struct {
	name         string
	mode         latch.Mode
	sessionCheck bool
	// alg "" signs with the HS256 secret the walkthrough generates in its
	// data directory; RS256, ES256 or EdDSA with a private key written to
	// a PEM file for cfg.JWT.KeyFile.
	alg string
}

// Every mode, and jwt with SessionCheck.
var (
	setupOpaque   = attackSetup{name: "opaque", mode: latch.ModeOpaque}
	setupJWT      = attackSetup{name: "jwt", mode: latch.ModeJWT}
	setupJWTCheck = attackSetup{name: "jwt-session-check", mode: latch.ModeJWT, sessionCheck: true}
	setupHybrid   = attackSetup{name: "hybrid", mode: latch.ModeHybrid}

	allSetups = []attackSetup{setupOpaque, setupJWT, setupJWTCheck, setupHybrid}
	jwtSetups = []attackSetup{setupJWT, setupJWTCheck, setupHybrid}
)

// withAlg returns s signing with alg, named after it.
func (s attackSetup) withAlg(alg string) attackSetup {
	s.alg = alg
	s.name += "-" + alg
	return s
}

// jwtAccess and jwtRefresh report whether s's tokens of each type are
// JWTs.
func (s attackSetup) jwtAccess() bool  { return s.mode != latch.ModeOpaque }
func (s attackSetup) jwtRefresh() bool { return s.mode == latch.ModeJWT }

// attackHarness is a harness whose store counts calls, with the key that
// signs the app's JWTs, so a test can make tokens the server will take for
// its own.
type attackHarness struct {
	*harness
	setup attackSetup
	store *storetest.Probe
	key   jwtSigner // the app's own signing key; zero in opaque mode
}

// newAttackHarness starts the app of s on a counting memstore.
func newAttackHarness(t testing.TB, routes Routes, s attackSetup, edit func(*config), opts ...latch.Option) *attackHarness {
	t.Helper()
	cs := &storetest.Probe{Store: memstore.New()}
	var key jwtSigner
	keyFile := ""
	if s.alg != "" {
		key = jwtSigner{alg: s.alg, key: testKey(t, s.alg)}
		keyFile = writeKeyFile(t, key.key.(crypto.Signer))
	}
	h := newHarness(t, routes, s.mode, func(c *config) {
		c.SessionCheck = s.sessionCheck
		c.JWT.KeyFile = keyFile
		if edit != nil {
			edit(c)
		}
	}, append([]latch.Option{latch.WithStore(cs)}, opts...)...)
	if s.alg == "" && s.jwtAccess() {
		b, err := os.ReadFile(filepath.Join(h.dir, "jwt-secret"))
		if err != nil {
			t.Fatalf("reading the generated secret: %v", err)
		}
		secret, err := token.DecodeSecret(string(b))
		if err != nil {
			t.Fatalf("decoding the generated secret: %v", err)
		}
		key = jwtSigner{alg: "HS256", key: secret}
	}
	return &attackHarness{harness: h, setup: s, store: cs, key: key}
}

// attempt sends req, checks the answer against w, and returns how the
// store was called while the request was served.
func (a *attackHarness) attempt(t *testing.T, req request, w want) storetest.Calls {
	t.Helper()
	r, c := a.counted(t, req)
	r.check(t, w)
	return c
}

// counted sends req and returns the answer with how the store was called
// while the request was served.
func (a *attackHarness) counted(t *testing.T, req request) (*response, storetest.Calls) {
	t.Helper()
	a.store.Reset()
	r := a.do(t, req)
	return r, a.store.Calls()
}

// refused is attempt for a request that must not write to the store.
func (a *attackHarness) refused(t *testing.T, req request, w want) storetest.Calls {
	t.Helper()
	c := a.attempt(t, req, w)
	if c.Writes() != 0 {
		t.Errorf("the store was written: %+v", c)
	}
	return c
}

// untouched is refused for a request that must not reach the store at
// all: refused before any session is read.
func (a *attackHarness) untouched(t *testing.T, req request, w want) {
	t.Helper()
	if c := a.refused(t, req, w); c != (storetest.Calls{}) {
		t.Errorf("the store was called: %+v", c)
	}
}

// session reads session id from the store behind the counter.
func (a *attackHarness) session(t *testing.T, id string) *store.Session {
	t.Helper()
	s, err := a.store.Store.Get(context.Background(), id, a.clock.Now())
	if err != nil {
		t.Fatalf("session %s: %v", id, err)
	}
	return s
}

// gone checks that session id has ended.
func (a *attackHarness) gone(t *testing.T, id string) {
	t.Helper()
	if _, err := a.store.Store.Get(context.Background(), id, a.clock.Now()); err != store.ErrNotFound {
		t.Errorf("session %s: Get = %v, want store.ErrNotFound", id, err)
	}
}

// sessionOf returns the session id an issued token names, read from the
// token itself (opaque or JWT), without asking the server.
func sessionOf(t *testing.T, tok string) string {
	t.Helper()
	if opaque.Is(tok) {
		return tok[4 : 4+store.IDLen]
	}
	_, c := decodeJWT(t, tok)
	sid, _ := c["sid"].(string)
	if !store.ValidID(sid) {
		t.Fatalf("token has no sid")
	}
	return sid
}

// set puts the harness's clock on a whole second, so that claims in
// whole seconds can sit exactly on it.
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// jwtSigner signs JWTs the way an attacker would: by hand, with any header
// and any claims, so nothing in a JWT library can tidy them up.
type jwtSigner struct {
	alg string
	key any // []byte for HS*, *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
}

var b64 = base64.RawURLEncoding

// outsider signs HS256 with a random key of the attacker's own, which the
// app has never seen.
var outsider = jwtSigner{alg: "HS256", key: []byte(rand.Text() + rand.Text())}

// jwtJSON encodes v; a json.RawMessage or string goes as it is.
func jwtJSON(t *testing.T, v any) []byte {
	t.Helper()
	switch v := v.(type) {
	case string:
		return []byte(v)
	case json.RawMessage:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign returns header.claims.signature; header and claims are maps, or
// raw JSON as strings.
func (k jwtSigner) sign(t *testing.T, header, claims any) string {
	t.Helper()
	input := b64.EncodeToString(jwtJSON(t, header)) + "." + b64.EncodeToString(jwtJSON(t, claims))
	return input + "." + b64.EncodeToString(k.signature(t, input))
}

// signature signs input with k's algorithm.
func (k jwtSigner) signature(t *testing.T, input string) []byte {
	t.Helper()
	digest := sha256.Sum256([]byte(input))
	switch key := k.key.(type) {
	case []byte:
		hash := sha256.New
		switch k.alg {
		case "HS384":
			hash = sha512.New384
		case "HS512":
			hash = sha512.New
		}
		mac := hmac.New(hash, key)
		mac.Write([]byte(input))
		return mac.Sum(nil)
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(key, []byte(input))
	}
	t.Fatalf("no signer for %T", k.key)
	return nil
}

// decodeJWT returns a JWT's header and claims, numbers kept as written.
func decodeJWT(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	dec := func(seg string) map[string]any {
		b, err := b64.DecodeString(seg)
		if err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("JWT segment: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

// reforge re-signs tok with k after edit changed its header and claims:
// a token the server issued, altered by someone who holds the key.
func (k jwtSigner) reforge(t *testing.T, tok string, edit func(header, claims map[string]any)) string {
	t.Helper()
	h, c := decodeJWT(t, tok)
	edit(h, c)
	return k.sign(t, h, c)
}

// Keys, made once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{"RS256": rsaKey, "ES256": ecKey, "EdDSA": edKey}
})

func testKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	k, ok := testKeys()[alg]
	if !ok {
		t.Fatalf("no test key for %s", alg)
	}
	return k
}

// writeKeyFile writes priv as a PKCS #8 PEM file, as LATCH_JWT_KEY_FILE
// names one.
func writeKeyFile(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwt-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawAnswer is what a raw HTTP exchange got back.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

// errExchangeOver is what a body still being produced when rawExchange
// returns reads from then on: its writer gets it instead of blocking.
var errExchangeOver = errors.New("rawExchange: the exchange is over")

// rawExchange writes head and then body to the server on a connection of
// its own, while reading the answer: for requests too large for the
// client to finish sending before the server answers and hangs up. When
// it returns, it has stopped writing, and closed body (with
// errExchangeOver, if it is an *io.PipeReader) so that whatever still
// feeds it stops too.
func rawExchange(t *testing.T, addr, head string, body io.Reader) rawAnswer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writing := make(chan struct{})
	defer func() {
		conn.Close() // ends a write in progress
		switch b := body.(type) {
		case *io.PipeReader:
			b.CloseWithError(errExchangeOver)
		case io.Closer:
			b.Close()
		}
		<-writing
	}()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		defer close(writing)
		// Write errors are expected: the server stops reading.
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		if body != nil {
			io.Copy(conn, body)
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawAnswer{resp.StatusCode, resp.Header, b}
}

// stillServing checks that the server answers a plain request.
func (h *harness) stillServing(t *testing.T) {
	t.Helper()
	h.get(t, "/health", "").check(t, want{200, "", `{"status":"ok"}`})
}

// setCookies returns the cookies an answer set, by name.
func setCookies(r *response) map[string]*http.Cookie {
	m := map[string]*http.Cookie{}
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil {
			m[c.Name] = c
		}
	}
	return m
}

// newOpaque returns a well-formed opaque token with a valid checksum for
// session id and a fresh random secret: what anyone can make who knows
// the format and a session id.
func newOpaque(prefix, id string) string {
	secret, _ := opaque.NewSecret()
	return opaque.Format(prefix, id, secret)
}

// publicDER is the app's public key as PKIX DER: what a certificate or a
// PEM "PUBLIC KEY" block holds.
func publicDER(t *testing.T, a *attackHarness) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(a.key.key.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rawPublic is the app's public key in its bare form: PKCS #1 for RSA,
// the uncompressed point for ECDSA, the 32 bytes of an Ed25519 key.
func rawPublic(t *testing.T, a *attackHarness) []byte {
	t.Helper()
	switch k := a.key.key.(type) {
	case *rsa.PrivateKey:
		return x509.MarshalPKCS1PublicKey(&k.PublicKey)
	case *ecdsa.PrivateKey:
		b, err := k.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	case ed25519.PrivateKey:
		return k.Public().(ed25519.PublicKey)
	}
	t.Fatalf("no public key for %T", a.key.key)
	return nil
}
