package latch_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/leaktest"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/token"
)

// TestLogScanCatchesLeaks checks the check (package leaktest, which
// TestMain runs): in every mode, a log line or an error carrying an
// issued token, its secret part, or the hex or base64 of the hash a store
// keeps for it, is caught.
func TestLogScanCatchesLeaks(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "scan")
			if got := e.Logs.Take(); len(got) != 0 {
				t.Fatalf("a login leaked: %v", got)
			}
			plant := map[string]string{"whole access token": tk.AccessToken, "whole refresh token": tk.RefreshToken}
			refreshSecret := leaktest.RefreshJTI(tk.RefreshToken)
			if opaque.Is(tk.RefreshToken) {
				refreshSecret = leaktest.OpaqueSecret(tk.RefreshToken)
			}
			if refreshSecret == "" {
				t.Fatalf("no secret found in the refresh token %.8s…", tk.RefreshToken)
			}
			h := opaque.HashSecret(refreshSecret)
			plant["refresh secret"] = refreshSecret
			plant["refresh hash, hex"] = hex.EncodeToString(h)
			plant["refresh hash, base64"] = base64.StdEncoding.EncodeToString(h)
			plant["refresh hash, base64url"] = base64.RawURLEncoding.EncodeToString(h)
			if opaque.Is(tk.AccessToken) {
				plant["access secret"] = leaktest.OpaqueSecret(tk.AccessToken)
				plant["access hash, hex"] = hex.EncodeToString(opaque.HashSecret(leaktest.OpaqueSecret(tk.AccessToken)))
			} else {
				plant["access signature"] = tk.AccessToken[strings.LastIndexByte(tk.AccessToken, '.')+1:]
			}
			for name, v := range plant {
				fmt.Fprintf(e.Logs, "level=INFO msg=planted value=%s\n", v)
				if got := e.Logs.Take(); len(got) == 0 {
					t.Errorf("a log line with the %s went unnoticed", name)
				}
				e.Logs.Observe(fmt.Errorf("latch: planted %q", v))
				if got := e.Logs.Take(); len(got) == 0 {
					t.Errorf("an error with the %s went unnoticed", name)
				}
			}
		})
	}
}

// TestErrorsCarryNoSecrets walks the main failure paths of the core in
// every mode and checks that the error, printed any way, carries neither
// the token presented, nor its secret part, nor a hash of either. (What
// latchhttp answers for each is checked by its TestAnswersCarryNoSecrets.)
func TestErrorsCarryNoSecrets(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			check := func(what, tok string, err error) {
				t.Helper()
				if err == nil {
					t.Errorf("%s: no error", what)
					return
				}
				x := leaktest.SecretsOf(tok)
				if found := x.Scan(err.Error()); len(found) > 0 {
					t.Errorf("%s: the error carries the %v", what, found)
				}
				if found := x.Scan(fmt.Sprintf("%+v %#v", err, err)); len(found) > 0 {
					t.Errorf("%s: the error formatted with %%+v or %%#v carries the %v", what, found)
				}
				if found := x.Scan(latch.PublicMessage(err)); len(found) > 0 {
					t.Errorf("%s: the public message carries the %v", what, found)
				}
			}
			verify := func(what, tok string, req latch.Requirement) {
				t.Helper()
				_, err := e.Auth.Authenticate(bg, tok, req)
				check("Authenticate "+what, tok, err)
			}

			tk := e.Login(t, users["1"], "a")
			flip := func(s string) string {
				b := []byte(s)
				if b[len(b)-2] == 'A' {
					b[len(b)-2] = 'B'
				} else {
					b[len(b)-2] = 'A'
				}
				return string(b)
			}
			verify("bad checksum or signature", flip(tk.AccessToken), access)
			verify("refresh token as access token", tk.RefreshToken, access)
			verify("access token as refresh token", tk.AccessToken, refresh)
			verify("wrong refresh secret", e.WrongSecret(t, tk.RefreshToken), refresh)
			verify("unknown session", e.UnknownSession(t, tk.RefreshToken), refresh)
			if mode == latch.ModeOpaque {
				verify("wrong access secret", e.WrongSecret(t, tk.AccessToken), access)
				verify("unknown session", e.UnknownSession(t, tk.AccessToken), access)
			}
			_, err := e.Auth.Refresh(bg, flip(tk.RefreshToken))
			check("Refresh with a bad checksum or signature", flip(tk.RefreshToken), err)
			check("RevokeToken of a bad token", flip(tk.AccessToken), e.Auth.RevokeToken(bg, flip(tk.AccessToken)))

			// Store failure.
			e.Store.SetDown(true)
			verify("with the store down", tk.RefreshToken, refresh)
			_, err = e.Auth.Refresh(bg, tk.RefreshToken)
			check("Refresh with the store down", tk.RefreshToken, err)
			check("RevokeToken with the store down", tk.RefreshToken, e.Auth.RevokeToken(bg, tk.RefreshToken))
			if mode == latch.ModeOpaque {
				verify("with the store down", tk.AccessToken, access)
			}
			e.Store.SetDown(false)

			// A refresh race, then a replay.
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Auth.Refresh(bg, next.RefreshToken); err != nil {
				t.Fatal(err)
			}
			_, err = e.Auth.Refresh(bg, tk.RefreshToken) // spent before the last refresh
			check("Refresh race", tk.RefreshToken, err)
			e.Clock.Add(time.Minute)
			_, err = e.Auth.Refresh(bg, tk.RefreshToken)
			check("reused refresh token", tk.RefreshToken, err)
			if mode == latch.ModeOpaque { // a JWT stays valid without a session check
				verify("access token of a revoked session", next.AccessToken, access)
			}
			verify("session check of a revoked session", next.AccessToken, latch.Requirement{SessionCheck: true})
			_, err = e.Auth.Refresh(bg, next.RefreshToken)
			check("refresh token of a revoked session", next.RefreshToken, err)

			// Expiry, and freshness.
			tk = e.Login(t, users["1"], "b")
			again, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			verify("fresh requirement of a refreshed token", again.AccessToken, latch.Requirement{Fresh: true})
			verify("user the loader does not find", e.Login(t, users["3"], "c").AccessToken, access)
			e.Clock.Add(latch.DefaultAccessTTL + time.Minute)
			verify("expired access token", again.AccessToken, access)
		})
	}
}

// TestNoPlaintextSecretInStore proves the store only ever receives hashes:
// every byte written to it is searched for every token and secret issued,
// raw, base64 and hex.
func TestNoPlaintextSecretInStore(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			var secrets []string
			add := func(tk *latch.Tokens) {
				for _, s := range []string{tk.AccessToken, tk.RefreshToken} {
					secrets = append(secrets, s)
					if opaque.Is(s) {
						secrets = append(secrets, s[26:69]) // the secret part
					}
				}
			}
			tk := e.Login(t, users["1"], "laptop")
			add(tk)
			e.Clock.Add(time.Minute)
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			add(next)
			e.Clock.Add(2 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); err != nil {
				t.Fatal(err)
			}
			if mode == latch.ModeJWT {
				// the refresh JWT's jti is its secret
				p, _ := e.Auth.Keyring().Verify(next.RefreshToken, token.VerifyOptions{Now: e.Clock.Now()})
				if p != nil {
					secrets = append(secrets, p.ID)
				}
			}
			all := e.Writes.All()
			// The check sees what was written: the device of Create's
			// session, and the hash Rotate set, as JSON encodes it.
			refreshSecret := next.RefreshToken[min(26, len(next.RefreshToken)):min(69, len(next.RefreshToken))]
			if mode == latch.ModeJWT {
				refreshSecret = secrets[len(secrets)-1]
			}
			rotated := base64.StdEncoding.EncodeToString(opaque.HashSecret(refreshSecret))
			if !bytes.Contains(all, []byte(`"laptop"`)) || !bytes.Contains(all, []byte(rotated)) {
				t.Fatalf("the recorded writes lack Create's device or Rotate's hash:\n%s", all)
			}
			for _, s := range secrets {
				for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s))} {
					if bytes.Contains(all, []byte(form)) {
						t.Errorf("the store received a plaintext secret (%.8s…)", s)
					}
				}
			}
			for _, s := range secrets {
				if strings.Contains(e.Logs.String(), s) {
					t.Errorf("a token or secret reached the log (%.8s…)", s)
				}
			}
		})
	}
}
