package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/store/memstore"
	"github.com/latchauth/latch/token"
)

// forgery makes an attack token out of tok, a token of the same type the
// server issued to test; peer is one it issued to batman.
type forgery struct {
	name  string
	forge func(t *testing.T, a *attackHarness, tok, peer string) string
	want  want
}

// runForgeries starts a fresh app for each setup, logs test and batman
// in, and presents every forgery made from test's access token at
// /protected and, where refresh tokens are JWTs, from test's refresh token
// at /refresh. A refused forgery must not reach the store at all: JWTs are
// checked before any session is read. A forgery the server must serve
// (want 200) is presented as an access token only, and must write nothing.
func runForgeries(t *testing.T, routes Routes, setups []attackSetup, edit func(*config), cases []forgery) {
	t.Helper()
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, edit)
			test, bat := a.login(t, "test", "laptop"), a.login(t, "batman", "batcave")
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Run("access", func(t *testing.T) {
						req := request{method: "GET", path: "/protected", token: c.forge(t, a, test.AccessToken, bat.AccessToken)}
						if c.want.status == 200 {
							a.refused(t, req, c.want)
							return
						}
						a.untouched(t, req, c.want)
					})
					if s.jwtRefresh() && c.want.status != 200 {
						t.Run("refresh", func(t *testing.T) {
							tok := c.forge(t, a, test.RefreshToken, bat.RefreshToken)
							a.untouched(t, request{method: "POST", path: "/refresh", token: tok}, c.want)
						})
					}
				})
			}
			t.Run("the real tokens still work", func(t *testing.T) {
				a.get(t, "/protected", test.AccessToken).check(t, servedTest)
			})
		})
	}
}

// unsigned returns tok with header edited and no signature, as alg none
// tokens come.
func unsigned(t *testing.T, tok string, edit func(h map[string]any)) string {
	t.Helper()
	h, c := decodeJWT(t, tok)
	edit(h)
	return b64.EncodeToString(jwtJSON(t, h)) + "." + b64.EncodeToString(jwtJSON(t, c)) + "."
}

func testAttackAlgNone(t *testing.T, routes Routes) {
	none := func(alg any) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return unsigned(t, tok, func(h map[string]any) { h["alg"] = alg })
		}
	}
	cases := []forgery{
		{"none", none("none"), refusedInvalid},
		{"None", none("None"), refusedInvalid},
		{"NONE", none("NONE"), refusedInvalid},
		{"nOnE", none("nOnE"), refusedInvalid},
		{"empty", none(""), refusedInvalid},
		{"null", none(nil), refusedInvalid},
		{"absent", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return unsigned(t, tok, func(h map[string]any) { delete(h, "alg") })
		}, refusedInvalid},
		{"none without kid", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return unsigned(t, tok, func(h map[string]any) { h["alg"] = "none"; delete(h, "kid") })
		}, refusedInvalid},
		{"none keeping the signature", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			sig := tok[strings.LastIndexByte(tok, '.')+1:]
			return unsigned(t, tok, func(h map[string]any) { h["alg"] = "none" }) + sig
		}, refusedInvalid},
		{"none signed with the app's key", func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(h, _ map[string]any) { h["alg"] = "none" })
		}, refusedInvalid},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256")), nil, cases)
}

// testAttackKeyConfusion: with an asymmetric key, an attacker signs HS256
// with the public key, in every form it can be fetched or written in, as
// the HMAC secret. The key alone fixes the algorithm, so none verifies.
func testAttackKeyConfusion(t *testing.T, routes Routes) {
	var setups []attackSetup
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		setups = append(setups, setupJWT.withAlg(alg), setupJWTCheck.withAlg(alg), setupHybrid.withAlg(alg))
	}
	// hmacWith signs tok's claims with HS256 (or alg) keyed by what secret
	// returns, under the app's kid unless noKid.
	hmacWith := func(alg string, noKid bool, secret func(*testing.T, *attackHarness) []byte) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, a *attackHarness, tok, _ string) string {
			k := jwtSigner{alg: alg, key: secret(t, a)}
			return k.reforge(t, tok, func(h, _ map[string]any) {
				h["alg"] = alg
				if noKid {
					delete(h, "kid")
				}
			})
		}
	}
	pemKey := func(t *testing.T, a *attackHarness) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER(t, a)})
	}
	jwks := func(t *testing.T, a *attackHarness) []byte {
		r := a.get(t, "/.well-known/jwks.json", "")
		r.check(t, want{status: 200})
		return r.body
	}
	jwk := func(t *testing.T, a *attackHarness) []byte {
		var doc struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(jwks(t, a), &doc); err != nil || len(doc.Keys) != 1 {
			t.Fatalf("JWKS: %v, %d keys", err, len(doc.Keys))
		}
		return doc.Keys[0]
	}
	cases := []forgery{
		{"HS256 keyed by the PEM public key", hmacWith("HS256", false, pemKey), refusedInvalid},
		{"HS256 keyed by the PEM public key without its newline", hmacWith("HS256", false, func(t *testing.T, a *attackHarness) []byte {
			return []byte(strings.TrimSpace(string(pemKey(t, a))))
		}), refusedInvalid},
		{"HS256 keyed by the DER public key", hmacWith("HS256", false, publicDER), refusedInvalid},
		{"HS256 keyed by the raw public key", hmacWith("HS256", false, rawPublic), refusedInvalid},
		{"HS256 keyed by the served JWKS", hmacWith("HS256", false, jwks), refusedInvalid},
		{"HS256 keyed by the served JWK", hmacWith("HS256", false, jwk), refusedInvalid},
		{"HS256 keyed by the PEM public key without kid", hmacWith("HS256", true, pemKey), refusedInvalid},
		{"HS512 keyed by the PEM public key", hmacWith("HS512", false, pemKey), refusedInvalid},
	}
	runForgeries(t, routes, setups, nil, cases)
}

// testAttackEmptyHMACKey: latch refuses an empty (or all-zero) secret at
// the token and configuration layers, the walkthrough refuses an empty
// secret file, and the app refuses a token HMAC'd with an empty key.
func testAttackEmptyHMACKey(t *testing.T, routes Routes) {
	weak := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, token.ErrWeakKey) {
			t.Errorf("err = %v, want token.ErrWeakKey", err)
		}
	}
	t.Run("token/NewHMACKey nil", func(t *testing.T) {
		_, err := token.NewHMACKey("", "HS256", nil)
		weak(t, err)
	})
	t.Run("token/NewHMACKey empty", func(t *testing.T) {
		_, err := token.NewHMACKey("k", "HS256", []byte{})
		weak(t, err)
	})
	t.Run("token/NewHMACKey 32 zero bytes", func(t *testing.T) {
		_, err := token.NewHMACKey("k", "HS256", make([]byte, 32))
		weak(t, err)
	})
	t.Run("token/DecodeSecret empty", func(t *testing.T) {
		_, err := token.DecodeSecret("")
		weak(t, err)
	})
	t.Run("token/zero Key in a keyring", func(t *testing.T) {
		if _, err := token.NewKeyring(&token.Key{}); err == nil {
			t.Error("a keyring took a key without key material")
		}
	})
	for name, secret := range map[string]latch.Secret{
		"padding only":  "====",
		"blank":         "   ",
		"32 zero bytes": latch.Secret(base64.StdEncoding.EncodeToString(make([]byte, 32))),
	} {
		t.Run("config/"+name, func(t *testing.T) {
			_, err := latch.New(context.Background(), latch.Config{SessionKey: authtest.SessionKey, Mode: latch.ModeJWT, JWT: latch.JWTConfig{Secret: secret}}, latch.WithStore(memstore.New()))
			weak(t, err)
		})
	}
	t.Run("config/no key", func(t *testing.T) {
		_, err := latch.New(context.Background(), latch.Config{SessionKey: authtest.SessionKey, Mode: latch.ModeJWT}, latch.WithStore(memstore.New()))
		if err == nil || !strings.Contains(err.Error(), "need a signing key") {
			t.Errorf("err = %v, want a missing key refused", err)
		}
	})
	t.Run("walkthrough/empty secret file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "jwt-secret"), []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := walkthrough.New(context.Background(), latch.Config{SessionKey: authtest.SessionKey, Mode: latch.ModeJWT}, latchhttp.Config{}, dir, latch.WithStore(memstore.New())); err == nil {
			t.Error("the app started with an empty secret file")
		}
	})
	emptyKey := jwtSigner{alg: "HS256", key: []byte{}}
	runForgeries(t, routes, jwtSetups, nil, []forgery{
		{"app/HS256 with an empty key", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return emptyKey.reforge(t, tok, func(_, _ map[string]any) {})
		}, refusedInvalid},
		{"app/HS256 with an empty key and no kid", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return emptyKey.reforge(t, tok, func(h, _ map[string]any) { delete(h, "kid") })
		}, refusedInvalid},
	})
}

// withHeader returns a forgery that sets header member name to v (nil
// deletes it) and signs with the app's own key: the header alone must
// make the server refuse it.
func withHeader(name string, v any) func(*testing.T, *attackHarness, string, string) string {
	return func(t *testing.T, a *attackHarness, tok, _ string) string {
		return a.key.reforge(t, tok, func(h, _ map[string]any) {
			if v == nil {
				delete(h, name)
			} else {
				h[name] = v
			}
		})
	}
}

// testAttackKid: the kid header only ever looks a key up in the keyring;
// whatever it says, with a signature by the app's own key, is refused.
func testAttackKid(t *testing.T, routes Routes) {
	cases := []forgery{
		{"path traversal", withHeader("kid", "../../etc/passwd"), refusedInvalid},
		{"path traversal to dev null", withHeader("kid", "../../../../../../dev/null"), refusedInvalid},
		{"absolute path", withHeader("kid", "/etc/passwd"), refusedInvalid},
		{"SQL", withHeader("kid", "' OR 1=1--"), refusedInvalid},
		{"SQL union", withHeader("kid", "x' UNION SELECT 'secret'--"), refusedInvalid},
		{"URL", withHeader("kid", "https://attacker.example/key"), refusedInvalid},
		{"unknown", withHeader("kid", "unknown-key"), refusedInvalid},
		{"empty", withHeader("kid", ""), refusedInvalid},
		{"absent", withHeader("kid", nil), refusedInvalid},
		{"number", withHeader("kid", 1), refusedMalformed},
		{"array", withHeader("kid", []string{"a"}), refusedMalformed},
		{"the real kid with a NUL", func(t *testing.T, a *attackHarness, tok, _ string) string {
			h, _ := decodeJWT(t, tok)
			return withHeader("kid", h["kid"].(string)+"\x00")(t, a, tok, "")
		}, refusedInvalid},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256")), nil, cases)
}

// testAttackKeyURLHeaders: jku, x5u, x5c and jwk headers are ignored: no
// URL is fetched, and a token signed by the attacker's own key, embedded
// or pointed to, is refused. A token the app signed stays valid with them
// (they are not read at all).
func testAttackKeyURLHeaders(t *testing.T, routes Routes) {
	var hits atomic.Int64
	attackerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer attackerSrv.Close()
	evil, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, err := evil.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	evilJWK := map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(point[1:33]), "y": b64.EncodeToString(point[33:]), "kid": "evil"}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "latch"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &evil.PublicKey, evil)
	if err != nil {
		t.Fatal(err)
	}
	evilSigner := jwtSigner{alg: "ES256", key: evil}
	// byEvil signs tok's claims with the attacker's key, its header edited.
	byEvil := func(edit func(h map[string]any)) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, _ *attackHarness, tok, _ string) string {
			return evilSigner.reforge(t, tok, func(h, _ map[string]any) { h["alg"] = "ES256"; edit(h) })
		}
	}
	jku, x5u := attackerSrv.URL+"/.well-known/jwks.json", attackerSrv.URL+"/cert.pem"
	cases := []forgery{
		{"jku with the app's kid", byEvil(func(h map[string]any) { h["jku"] = jku }), refusedInvalid},
		{"jku with the attacker's kid", byEvil(func(h map[string]any) { h["jku"] = jku; h["kid"] = "evil" }), refusedInvalid},
		{"x5u", byEvil(func(h map[string]any) { h["x5u"] = x5u }), refusedInvalid},
		{"x5u without kid", byEvil(func(h map[string]any) { h["x5u"] = x5u; delete(h, "kid") }), refusedInvalid},
		{"embedded jwk", byEvil(func(h map[string]any) { h["jwk"] = evilJWK }), refusedInvalid},
		{"embedded jwk without kid", byEvil(func(h map[string]any) { h["jwk"] = evilJWK; delete(h, "kid") }), refusedInvalid},
		{"x5c", byEvil(func(h map[string]any) { h["x5c"] = []string{base64.StdEncoding.EncodeToString(cert)} }), refusedInvalid},
		{"all of them", byEvil(func(h map[string]any) {
			h["jku"], h["x5u"], h["jwk"] = jku, x5u, evilJWK
			h["x5c"] = []string{base64.StdEncoding.EncodeToString(cert)}
		}), refusedInvalid},
		{"the app's token with jku and x5u", func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(h, _ map[string]any) { h["jku"], h["x5u"] = jku, x5u })
		}, servedTest},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256"), setupHybrid.withAlg("ES256")), nil, cases)
	if n := hits.Load(); n != 0 {
		t.Errorf("the attacker's server got %d requests, want none", n)
	}
}

// testAttackCrit: a crit header names extensions latch does not implement,
// so RFC 7515 §4.1.11 has the token refused even with a valid signature.
func testAttackCrit(t *testing.T, routes Routes) {
	cases := []forgery{
		{"crit exp", withHeader("crit", []string{"exp"}), refusedInvalid},
		{"unknown extension", func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(h, _ map[string]any) {
				h["crit"] = []string{"urn:example:must-understand"}
				h["urn:example:must-understand"] = true
			})
		}, refusedInvalid},
		{"b64 false", func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(h, _ map[string]any) { h["crit"] = []string{"b64"}; h["b64"] = false })
		}, refusedInvalid},
		{"empty list", withHeader("crit", []string{}), refusedInvalid},
		{"not a list", withHeader("crit", "exp"), refusedInvalid},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256")), nil, cases)
}

// testAttackSignature: a stripped, altered or borrowed signature, or a
// payload or header changed under a valid signature.
func testAttackSignature(t *testing.T, routes Routes) {
	split := func(tok string) (h, p, s string) {
		parts := strings.Split(tok, ".")
		return parts[0], parts[1], parts[2]
	}
	tamper := func(edit func(h, c map[string]any)) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, _ *attackHarness, tok, _ string) string {
			_, _, sig := split(tok)
			hd, c := decodeJWT(t, tok)
			edit(hd, c)
			return b64.EncodeToString(jwtJSON(t, hd)) + "." + b64.EncodeToString(jwtJSON(t, c)) + "." + sig
		}
	}
	cases := []forgery{
		{"signature stripped", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			h, p, _ := split(tok)
			return h + "." + p + "."
		}, refusedInvalid},
		{"signature segment dropped", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			h, p, _ := split(tok)
			return h + "." + p
		}, refusedMalformed},
		{"extra segment", func(t *testing.T, _ *attackHarness, tok, _ string) string { return tok + ".e30" }, refusedMalformed},
		{"empty segments", func(*testing.T, *attackHarness, string, string) string { return ".." }, refusedMalformed},
		{"signature bit flipped", func(t *testing.T, _ *attackHarness, tok, _ string) string {
			h, p, s := split(tok)
			sig, err := b64.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			sig[0] ^= 1
			return h + "." + p + "." + b64.EncodeToString(sig)
		}, refusedInvalid},
		{"signature of batman's token", func(t *testing.T, _ *attackHarness, tok, peer string) string {
			h, p, _ := split(tok)
			_, _, s := split(peer)
			return h + "." + p + "." + s
		}, refusedInvalid},
		{"payload tampered: sub of batman", tamper(func(_, c map[string]any) { c["sub"] = "2" }), refusedInvalid},
		{"payload tampered: is_administrator", tamper(func(_, c map[string]any) { c["is_administrator"] = true }), refusedInvalid},
		{"payload tampered: exp a year on", tamper(func(_, c map[string]any) {
			exp, _ := c["exp"].(json.Number).Int64()
			c["exp"] = exp + 365*24*3600
		}), refusedInvalid},
		{"payload tampered: type", tamper(func(_, c map[string]any) {
			if c["type"] == "access" {
				c["type"] = "refresh"
			} else {
				c["type"] = "access"
			}
		}), refusedInvalid},
		{"header tampered: typ", tamper(func(h, _ map[string]any) { h["typ"] = "at+jwt" }), refusedInvalid},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256"), setupJWT.withAlg("EdDSA")), nil, cases)
}
