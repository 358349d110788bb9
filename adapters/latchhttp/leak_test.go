package latchhttp_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/leaktest"
)

// TestAnswersCarryNoSecrets sends refused tokens of every kind, in every
// mode, to each endpoint that takes one (a guarded route, the refresh,
// revocation and introspection endpoints), with the store up and down,
// and checks that no answer, headers or body, carries the token
// presented, its secret part, or a hash of either. (The core's
// TestErrorsCarryNoSecrets checks the errors behind these answers.)
func TestAnswersCarryNoSecrets(t *testing.T) {
	const client = "0123456789abcdef0123456789abcdef"
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			introspection := e.web.IntrospectionHandler(latchhttp.BasicClient("rs", client))
			endpoints := map[string]func(tok string) (int, http.Header, string){
				"guarded route": func(tok string) (int, http.Header, string) {
					w := do(e.handler(), "GET", "/sessions", bearer(tok), "")
					return w.Code, w.Header(), w.Body.String()
				},
				"refresh": func(tok string) (int, http.Header, string) {
					w := do(e.web.RefreshHandler(), "POST", "/refresh", bearer(tok), "")
					return w.Code, w.Header(), w.Body.String()
				},
				"revocation": func(tok string) (int, http.Header, string) {
					w := do(e.web.RevocationHandler(), "POST", "/revoke", form, "token="+url.QueryEscape(tok))
					return w.Code, w.Header(), w.Body.String()
				},
				"introspection": func(tok string) (int, http.Header, string) {
					w := introspect(introspection, "rs", client, "token="+url.QueryEscape(tok), false)
					return w.Code, w.Header(), w.Body.String()
				},
			}
			send := func(what, tok string) {
				t.Helper()
				x := leaktest.SecretsOf(tok)
				for name, send := range endpoints {
					code, hdr, body := send(tok)
					if found := x.Scan(fmt.Sprint(hdr) + body); len(found) > 0 {
						t.Errorf("%s to the %s endpoint: the %d answer carries the %v", what, name, code, found)
					}
				}
			}
			flip := func(s string) string {
				b := []byte(s)
				b[len(b)-2] ^= 'A' ^ 'B' // another base62 and base64url character
				return string(b)
			}

			tk := e.Login(t, users["1"], "a")
			send("a bad checksum or signature", flip(tk.AccessToken))
			send("a bad refresh checksum or signature", flip(tk.RefreshToken))
			if mode == latch.ModeOpaque { // a JWT's jti is no secret: a re-signed one is valid
				send("a wrong access secret", e.WrongSecret(t, tk.AccessToken))
			}
			send("a wrong refresh secret", e.WrongSecret(t, tk.RefreshToken))
			send("an unknown session", e.UnknownSession(t, tk.RefreshToken))
			send("a user the loader does not find", e.Login(t, users["3"], "b").AccessToken)

			e.Store.SetDown(true)
			send("an access token with the store down", tk.AccessToken)
			send("a refresh token with the store down", tk.RefreshToken)
			e.Store.SetDown(false)

			// A replay ends the session; its tokens are refused since.
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(time.Minute)
			send("a replayed refresh token", tk.RefreshToken)
			send("the access token of a revoked session", next.AccessToken)
			send("the refresh token of a revoked session", next.RefreshToken)

			tk = e.Login(t, users["1"], "c")
			e.Clock.Add(latch.DefaultAccessTTL + time.Minute)
			send("an expired access token", tk.AccessToken)
		})
	}
}
