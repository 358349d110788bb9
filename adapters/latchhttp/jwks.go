package latchhttp

import (
	"net/http"
	"strconv"

	"github.com/latchauth/latch/token"
)

// JWKSHandler serves k's public keys as an RFC 7517 JWK Set
// (token.Keyring.JWKS), as the ring is at each request, so rotations show
// at once. It answers GET and HEAD with Cache-Control public, max-age=300
// (verifiers should refetch on an unknown kid rather than wait); other
// methods get 405 with an Allow header. HMAC keys are never published.
func JWKSHandler(k *token.Keyring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body := k.JWKS()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}
