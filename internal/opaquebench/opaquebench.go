// Package opaquebench measures latch's opaque access tokens against the
// lookup a user would write by hand on the same store, in one run: issue
// 15's third target. Each store's module calls Run from a benchmark of
// its own, with its own client and test helpers; the package uses the
// standard library and latch only, so that no module gains a dependency.
package opaquebench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/store"
)

// Sessions is how many sessions Run logs in and authenticates in turn,
// so that no one hot record flatters either side.
const Sessions = 1000

// Lookup is the hand-written read of session id on the store's own
// client: one GET, SELECT by primary key or find by _id, decoding only the
// subject and the SHA-256 of the access token's secret.
type Lookup func(ctx context.Context, id string) (subject string, secretHash []byte, err error)

// Run logs Sessions sessions in to s through latch in ModeOpaque (no
// session cache, no user loader) and runs two sub-benchmarks that
// authenticate their access tokens in turn:
//
//   - handwritten: split the token into session id and secret, SHA-256
//     the secret, look the session up with the Lookup that hand returns
//     (given the sessions' ids), compare the hashes in constant time;
//   - latch: Auth.Authenticate(ctx, token, latch.Requirement{}).
//
// Each session has what a browser login gives it: a device (label, user
// agent, IP) and three claims. The clock stands still at the logins, so
// no authentication is due to record a use (Config.TouchInterval): the
// common case, a read and no write, as in the hand-written path. Both
// run under one context that can be done, as a request's is.
func Run(b *testing.B, s store.Store, hand func(b *testing.B, ids []string) Lookup) {
	// A context that can be done, as net/http's request context is: for
	// one, database/sql and lib/pq watch such a context in a goroutine
	// per query, and never Background. latch adds the store timeout to it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now().Truncate(time.Millisecond)
	a, err := latch.New(ctx, latch.Config{Mode: latch.ModeOpaque, SessionKey: latch.Secret(key())},
		latch.WithStore(s),
		latch.WithClock(func() time.Time { return now }),
		latch.WithLogger(slog.New(slog.DiscardHandler)),
		latch.WithIdentity(func(u string) string { return u }),
	)
	if err != nil {
		b.Fatal(err)
	}
	toks, ids := login(b, a)
	lookup := hand(b, ids)

	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tok := toks[i%len(toks)]
			i++
			if sub, err := handwritten(ctx, tok, lookup); err != nil || sub == "" {
				b.Fatalf("handwritten: %q, %v", sub, err)
			}
		}
	})
	b.Run("latch", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tok := toks[i%len(toks)]
			i++
			if p, err := a.Authenticate(ctx, tok, latch.Requirement{}); err != nil || p.Subject == "" {
				b.Fatalf("Authenticate: %v", err)
			}
		}
	})
}

// handwritten checks tok as a user who knows latch's opaque format would
// by hand: lta_, 22 characters of session id, 43 of secret, 6 of
// checksum (not checked: the store lookup refuses a typo anyway).
func handwritten(ctx context.Context, tok string, lookup Lookup) (string, error) {
	rest, ok := strings.CutPrefix(tok, "lta_")
	if !ok || len(rest) != 22+43+6 {
		return "", fmt.Errorf("malformed token")
	}
	id, secret := rest[:22], rest[22:65]
	h := sha256.Sum256([]byte(secret))
	sub, stored, err := lookup(ctx, id)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare(h[:], stored) != 1 {
		return "", fmt.Errorf("secret does not match")
	}
	return sub, nil
}

// login logs Sessions users in, eight at a time, and returns their access
// tokens and session ids.
func login(b *testing.B, a *latch.Auth) (toks, ids []string) {
	toks, ids = make([]string, Sessions), make([]string, Sessions)
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	var wg sync.WaitGroup
	errs := make(chan error, Sessions)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < Sessions; i += 8 {
				var t *latch.Tokens
				var err error
				// Three tries: a loaded server (FerretDB) may take longer
				// than the store timeout now and then.
				for range 3 {
					t, err = a.Login(context.Background(), fmt.Sprintf("user-%04d@example.com", i), latch.LoginOptions{
						Device: latch.Device{Label: "Chrome on macOS", UserAgent: ua, IP: "2001:db8::7"},
						Claims: map[string]any{"role": "editor", "org": "acme", "plan": "pro"},
					})
					if err == nil {
						break
					}
				}
				if err != nil {
					errs <- err
					return
				}
				toks[i], ids[i] = t.AccessToken, t.AccessToken[4:26]
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("login: %v", err)
	}
	return toks, ids
}

// key returns a fresh Config.SessionKey.
func key() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
