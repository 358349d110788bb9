package latchhttp_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/token"
)

// TestJWKSHandler: the JWKS endpoint serves the keyring's public keys to
// GET and HEAD with a cacheable JSON answer, refuses other methods with
// 405 and an Allow header, shows a rotation at the next request, and
// never publishes an HMAC key.
func TestJWKSHandler(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, err := token.NewSigningKey("ed", "EdDSA", edPriv)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := token.NewSigningKey("ec", "ES256", ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	hmac, err := token.NewHMACKey("hmac", "HS256", authtest.Key())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := token.NewKeyring(hmac, ed)
	if err != nil {
		t.Fatal(err)
	}
	h := latchhttp.JWKSHandler(ring)
	// kids fetches the document with GET and returns its keys' ids.
	kids := func() []string {
		t.Helper()
		w := do(h, "GET", "/.well-known/jwks.json", nil, "")
		hdr := w.Header()
		if w.Code != 200 || hdr.Get("Content-Type") != "application/json" || hdr.Get("Cache-Control") != "public, max-age=300" ||
			hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Fatalf("GET: %d %v", w.Code, hdr)
		}
		var doc struct {
			Keys []struct{ Kid, Kty, Alg, Use string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("GET: %s is not a JWK Set: %v", w.Body, err)
		}
		var out []string
		for _, k := range doc.Keys {
			if k.Kty == "oct" || strings.HasPrefix(k.Alg, "HS") {
				t.Errorf("an HMAC key is published: %+v", k)
			}
			if k.Use != "sig" {
				t.Errorf("key %s: use %q, want sig", k.Kid, k.Use)
			}
			out = append(out, k.Kid)
		}
		if strings.Contains(w.Body.String(), "hmac") {
			t.Errorf("the document names the HMAC key: %s", w.Body)
		}
		return out
	}
	if got := kids(); len(got) != 1 || got[0] != "ed" {
		t.Errorf("keys %v, want [ed]", got)
	}
	// Rotation shows at once: a key added is published, newest first; a
	// key removed is gone.
	if err := ring.Add(ec); err != nil {
		t.Fatal(err)
	}
	if got := kids(); len(got) != 2 || got[0] != "ec" || got[1] != "ed" {
		t.Errorf("after Add: keys %v, want [ec ed]", got)
	}
	if err := ring.Remove("ed"); err != nil {
		t.Fatal(err)
	}
	if got := kids(); len(got) != 1 || got[0] != "ec" {
		t.Errorf("after Remove: keys %v, want [ec]", got)
	}

	head := do(h, "HEAD", "/", nil, "")
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != strconv.Itoa(len(ring.JWKS())) {
		t.Errorf("HEAD: %d, %d bytes, headers %v", head.Code, head.Body.Len(), head.Header())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if w := do(h, m, "/", nil, ""); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", m, w.Code, w.Header().Get("Allow"))
		}
	}

	// A ring of HMAC keys only publishes an empty set.
	hmacOnly, err := token.NewKeyring(hmac)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	latchhttp.JWKSHandler(hmacOnly).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || w.Body.String() != `{"keys":[]}` {
		t.Errorf("HMAC-only ring: %d %s", w.Code, w.Body)
	}
}
