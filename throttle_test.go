package latch_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// throttleEnv is an env whose buckets allow 2 free failures per account
// and address, 3 per account, 4 per address, with delays of 1s doubling
// up to 8s.
func throttleEnv(t *testing.T) *env {
	return newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.Throttle = latch.ThrottleConfig{PairFree: 2, AccountFree: 3, AddressFree: 4,
			BaseDelay: latch.Duration(time.Second), MaxDelay: latch.Duration(8 * time.Second), Window: latch.Duration(time.Hour)}
	})
}

// fail makes one attempt for account from addr that fails its password
// check, and returns Throttle's error.
func fail(t *testing.T, e *env, account, addr string) error {
	t.Helper()
	return try(t, e, account, addr, false)
}

func try(t *testing.T, e *env, account, addr string, ok bool) error {
	t.Helper()
	att, err := e.Auth.Throttle(bg, account, addr)
	if err != nil {
		return err
	}
	if err := att.Done(bg, ok); err != nil {
		t.Fatalf("Done: %v", err)
	}
	return nil
}

// retryAfter returns the wait err carries, failing t if it is not a
// *ThrottledError.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var te *latch.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("err = %v, want a *ThrottledError matching ErrThrottled", err)
	}
	return te.RetryAfter
}

// TestThrottleDelayGrowsAndCaps: past the free attempts each failure
// doubles the wait, up to MaxDelay and never beyond, and the wait runs
// from the latest failure: no hard lockout.
func TestThrottleDelayGrowsAndCaps(t *testing.T) {
	e := throttleEnv(t)
	for i := range 2 {
		if err := fail(t, e, "alice", "192.0.2.1"); err != nil {
			t.Fatalf("free attempt %d: %v", i+1, err)
		}
	}
	for _, want := range []time.Duration{1, 2, 4, 8, 8, 8} {
		err := fail(t, e, "alice", "192.0.2.1")
		if got := retryAfter(t, err); got != want*time.Second {
			t.Fatalf("RetryAfter = %s, want %s", got, want*time.Second)
		}
		e.Clock.Add(want*time.Second - time.Millisecond)
		if err := fail(t, e, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
			t.Fatalf("a millisecond early: err = %v, want ErrThrottled", err)
		}
		e.Clock.Add(time.Millisecond)
		if err := fail(t, e, "alice", "192.0.2.1"); err != nil {
			t.Fatalf("after %s: %v", want*time.Second, err)
		}
	}
	// The window forgets: an hour after the latest failure, all is free.
	e.Clock.Add(time.Hour)
	if err := try(t, e, "alice", "192.0.2.1", true); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

// TestThrottleBuckets: the (account, address) bucket is the strictest; the
// account bucket slows the account from every address; the address
// bucket slows every account from one address; and neither touches
// another account from another address.
func TestThrottleBuckets(t *testing.T) {
	e := throttleEnv(t)
	fail(t, e, "alice", "192.0.2.1")
	fail(t, e, "alice", "192.0.2.1")
	if err := fail(t, e, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("third from one address: %v, want ErrThrottled", err)
	}
	if err := fail(t, e, "alice", "198.51.100.7"); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	if err := fail(t, e, "alice", "203.0.113.9"); !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("fourth for the account: %v, want ErrThrottled", err)
	}
	if err := try(t, e, "bob", "203.0.113.9", true); err != nil {
		t.Fatalf("another account from another address: %v", err)
	}
	// The address bucket: 192.0.2.1 has 2 failures; 2 more on other
	// accounts use it up.
	fail(t, e, "carol", "192.0.2.1")
	fail(t, e, "dave", "192.0.2.1")
	if err := fail(t, e, "erin", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("fifth from the address: %v, want ErrThrottled", err)
	}
	if err := try(t, e, "erin", "192.0.2.2", true); err != nil {
		t.Fatalf("the next IPv4 address: %v", err)
	}
}

// TestThrottleSuccessResets: a right password clears the account's
// buckets, so the user's next mistakes are free again; the address
// bucket keeps its count.
func TestThrottleSuccessResets(t *testing.T) {
	e := throttleEnv(t)
	e = newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.Throttle = e.Auth.Config().Throttle
		c.Throttle.AddressFree = 5
	})
	fail(t, e, "alice", "192.0.2.1")
	fail(t, e, "alice", "192.0.2.1")
	e.Clock.Add(time.Second)
	if err := fail(t, e, "alice", "192.0.2.1"); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	e.Clock.Add(2 * time.Second)
	if err := try(t, e, "alice", "192.0.2.1", true); err != nil {
		t.Fatalf("right password after the delay: %v", err)
	}
	fail(t, e, "alice", "192.0.2.1")
	if err := fail(t, e, "alice", "192.0.2.1"); err != nil {
		t.Fatalf("after the reset, second failure: %v", err)
	}
	// 192.0.2.1 now has 5 failures against its 5 free ones.
	if err := fail(t, e, "zed", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("address bucket after the reset: %v, want ErrThrottled", err)
	}
}

// TestThrottleSameForUnknownAccounts: the limiter never asks who exists,
// so an account nobody has costs the same store calls and gets the same
// answers as a real one.
func TestThrottleSameForUnknownAccounts(t *testing.T) {
	run := func(account string) (storetest.Calls, []string) {
		e := throttleEnv(t)
		var answers []string
		for range 6 {
			err := fail(t, e, account, "192.0.2.1")
			answers = append(answers, jsonString(latch.PublicMessage(err))+" "+fmtSprint(err))
		}
		return e.Store.Calls(), answers
	}
	knownCalls, known := run("1")
	unknownCalls, unknown := run("no-such-user@example.com")
	if knownCalls != unknownCalls {
		t.Errorf("store calls: known %+v, unknown %+v", knownCalls, unknownCalls)
	}
	if strings.Join(known, "\n") != strings.Join(unknown, "\n") {
		t.Errorf("answers differ:\nknown:\n%s\nunknown:\n%s", strings.Join(known, "\n"), strings.Join(unknown, "\n"))
	}
}

// TestThrottleAddresses: IPv4 counts per address, an IPv4-mapped IPv6
// address as the IPv4 one, IPv6 per /64; a port or zone changes nothing;
// anything that is not an IP address is ErrBadRequest.
func TestThrottleAddresses(t *testing.T) {
	same := [][]string{
		{"192.0.2.1", "192.0.2.1:1234", "::ffff:192.0.2.1", "[::ffff:192.0.2.1]:80", " 192.0.2.1 "},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "[2001:db8:1:2::9]:443"},
		{"fe80::1%eth0", "fe80::2", "[fe80::3%lo]:22"},
	}
	for _, group := range same {
		e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) { c.Throttle.AddressFree = len(group) })
		for i, addr := range group {
			if err := fail(t, e, "user"+string(rune('a'+i)), addr); err != nil {
				t.Fatalf("%s: %v", addr, err)
			}
		}
		if err := fail(t, e, "other", group[0]); !errors.Is(err, latch.ErrThrottled) {
			t.Errorf("%q are not one address bucket: %v", group, err)
		}
		for _, other := range []string{"192.0.2.2", "2001:db8:1:3::1", "::1"} {
			if err := fail(t, e, "other", other); err != nil {
				t.Errorf("%s shares a bucket with %q: %v", other, group, err)
			}
		}
	}
	e := throttleEnv(t)
	for _, bad := range []string{"", "localhost", "192.0.2.1:", "unix:/run/x", "1.2.3.4.5", "[192.0.2.1"} {
		_, err := e.Auth.Throttle(bg, "alice", bad)
		if !errors.Is(err, latch.ErrBadRequest) {
			t.Errorf("Throttle(%q) = %v, want ErrBadRequest", bad, err)
		}
	}
}

// TestThrottleKeys: the store gets fixed-length printable keys within
// store.MaxStrikeKeyLen, never the account or the address; accounts are
// compared in lower case.
func TestThrottleKeys(t *testing.T) {
	e := throttleEnv(t)
	account := strings.Repeat("Ünïcode-user@example.com", 50)
	fail(t, e, account, "2001:db8::1")
	fail(t, e, "x", "192.0.2.1")
	written := e.Writes.All()
	for _, s := range []string{"Ünïcode", "example", "2001", "192.0.2"} {
		if bytes.Contains(written, []byte(s)) {
			t.Errorf("the store was given %q", s)
		}
	}
	ms := &keyStore{Store: memstore.New()}
	e = newEnv(t, latch.ModeOpaque, nil, latch.WithStore(ms))
	fail(t, e, account, "2001:db8::1")
	fail(t, e, "", "::1")
	if len(ms.keys) != 6 {
		t.Fatalf("keys = %q, want 6", ms.keys)
	}
	for _, k := range ms.keys {
		if len(k) != len(ms.keys[0]) || len(k) > store.MaxStrikeKeyLen {
			t.Errorf("key %q: length %d", k, len(k))
		}
		for _, c := range []byte(k) {
			if c < 0x21 || c > 0x7e {
				t.Errorf("key %q is not printable ASCII", k)
			}
		}
	}
	// Case folded: ALICE after alice's two failures is throttled.
	e = throttleEnv(t)
	fail(t, e, "alice", "192.0.2.1")
	fail(t, e, "alice", "192.0.2.1")
	if err := fail(t, e, "ALICE", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Errorf("ALICE after alice: %v, want ErrThrottled", err)
	}
}

// keyStore records the keys of AddStrike.
type keyStore struct {
	*memstore.Store
	keys []string
}

func (s *keyStore) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	s.keys = append(s.keys, key)
	return s.Store.AddStrike(ctx, key, now, ttl)
}

// TestThrottleEvents: a bucket that uses up its free attempts reports
// one EventThrottle naming it, logged without the account or address.
func TestThrottleEvents(t *testing.T) {
	e := throttleEnv(t)
	for range 6 {
		fail(t, e, "mallory-target", "192.0.2.77")
		e.Clock.Add(time.Minute)
	}
	var got []latch.Bucket
	for _, ev := range e.Events() {
		if ev.Kind == latch.EventThrottle {
			got = append(got, ev.Bucket)
			if ev.Subject != "" || ev.SessionID != "" || ev.Err != nil {
				t.Errorf("event carries more than its bucket: %+v", ev)
			}
		}
	}
	want := []latch.Bucket{latch.BucketPair, latch.BucketAccount, latch.BucketAddress}
	if fmtSprint(got) != fmtSprint(want) {
		t.Errorf("throttle events = %v, want %v", got, want)
	}
	logs := e.Logs.String()
	if !strings.Contains(logs, "event=throttle bucket=account_address") {
		t.Errorf("log lacks the throttle event:\n%s", logs)
	}
	if strings.Contains(logs, "mallory") || strings.Contains(logs, "192.0.2.77") {
		t.Errorf("log shows the account or address:\n%s", logs)
	}
}

// TestThrottleFailsClosed: a store that is down refuses the attempt with
// ErrUnavailable, and Done reports it; a failure is recorded even after
// the request's context is cancelled; only the first Done counts.
func TestThrottleFailsClosed(t *testing.T) {
	e := throttleEnv(t)
	att, err := e.Auth.Throttle(bg, "alice", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	e.Store.SetDown(true)
	if _, err := e.Auth.Throttle(bg, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrUnavailable) {
		t.Errorf("Throttle with the store down = %v, want ErrUnavailable", err)
	}
	if err := att.Done(bg, false); !errors.Is(err, latch.ErrUnavailable) {
		t.Errorf("Done with the store down = %v, want ErrUnavailable", err)
	}
	e.Store.SetDown(false)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	// The first attempt's strike was counted when Throttle let it
	// through, although its Done failed: one more failure uses up the
	// pair's two free attempts.
	for range 1 {
		att, err := e.Auth.Throttle(bg, "alice", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := att.Done(ctx, false); err != nil {
			t.Fatalf("Done with a cancelled context: %v", err)
		}
		if err := att.Done(bg, true); err != nil {
			t.Fatalf("second Done: %v", err)
		}
	}
	if err := fail(t, e, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Errorf("after two failures, one Done on a cancelled context: %v, want ErrThrottled", err)
	}
	var nilAttempt *latch.Attempt
	if err := nilAttempt.Done(bg, true); err != nil {
		t.Errorf("Done on nil: %v", err)
	}
}

// bareStore is a store without store.Throttle.
type bareStore struct{ store.Store }

// TestThrottleNeedsStoreCapability: a store without store.Throttle is an
// error naming it, at New when throttling is configured, else at the
// first Throttle; never a pass.
func TestThrottleNeedsStoreCapability(t *testing.T) {
	s := bareStore{memstore.New()}
	_, err := latch.New(bg, latch.Config{SessionKey: sessionKey, Throttle: latch.ThrottleConfig{PairFree: 3}}, latch.WithStore(s))
	if err == nil || !strings.Contains(err.Error(), "latch_test.bareStore") || !strings.Contains(err.Error(), "store.Throttle") {
		t.Errorf("New with throttling configured = %v, want an error naming the store", err)
	}
	a, err := latch.New(bg, latch.Config{SessionKey: sessionKey}, latch.WithStore(s), latch.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Throttle(bg, "alice", "192.0.2.1")
	if err == nil || !strings.Contains(err.Error(), "latch_test.bareStore") || latch.Kind(err) != nil {
		t.Errorf("Throttle = %v, want an error naming the store, of none of latch's kinds (a 500)", err)
	}
}

// TestThrottledError: matched by errors.Is and errors.As, Kind
// ErrThrottled, a public message without detail.
func TestThrottledError(t *testing.T) {
	err := error(&latch.ThrottledError{RetryAfter: 1500 * time.Millisecond})
	wrapped := errors.Join(errors.New("app"), err)
	if !errors.Is(wrapped, latch.ErrThrottled) || latch.Kind(err) != latch.ErrThrottled {
		t.Errorf("not ErrThrottled: %v", err)
	}
	if got := retryAfter(t, wrapped); got != 1500*time.Millisecond {
		t.Errorf("RetryAfter = %s", got)
	}
	if got := latch.PublicMessage(err); got != "Too many failed login attempts, try again later" {
		t.Errorf("PublicMessage = %q", got)
	}
}

// TestThrottleConfig: the throttle settings from the environment and a
// file, their defaults, and what validation refuses.
func TestThrottleConfig(t *testing.T) {
	env := map[string]string{
		"LATCH_THROTTLE_ACCOUNT_FREE": "7", "LATCH_THROTTLE_PAIR_FREE": "3", "LATCH_THROTTLE_ADDRESS_FREE": "99",
		"LATCH_THROTTLE_BASE_DELAY": "2s", "LATCH_THROTTLE_MAX_DELAY": "10m", "LATCH_THROTTLE_WINDOW": "2d",
	}
	c, err := latch.ConfigFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	want := latch.ThrottleConfig{AccountFree: 7, PairFree: 3, AddressFree: 99, BaseDelay: latch.Duration(2 * time.Second),
		MaxDelay: latch.Duration(10 * time.Minute), Window: latch.Duration(48 * time.Hour)}
	if c.Throttle != want {
		t.Errorf("from env: %+v, want %+v", c.Throttle, want)
	}
	a, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	def := latch.ThrottleConfig{AccountFree: 10, PairFree: 5, AddressFree: 50, BaseDelay: latch.Duration(time.Second),
		MaxDelay: latch.Duration(15 * time.Minute), Window: latch.Duration(24 * time.Hour)}
	if got := a.Config().Throttle; got != def {
		t.Errorf("defaults: %+v, want %+v", got, def)
	}
	// A file's "throttle" member; errors name its keys there.
	path := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(path, []byte(`{"throttle": {"pair_free": 4, "max_delay": "2h"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := latch.LoadConfigFile(path)
	if err != nil || fc.Throttle.PairFree != 4 {
		t.Fatalf("LoadConfigFile = %+v, %v", fc.Throttle, err)
	}
	if _, err := latch.New(bg, fc); err == nil || !strings.Contains(err.Error(), "throttle.max_delay in "+path) {
		t.Errorf("New with max_delay 2h from a file: %v, want it named as in the file", err)
	}
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"negative count":   {map[string]string{"LATCH_THROTTLE_PAIR_FREE": "-1"}, "LATCH_THROTTLE_PAIR_FREE"},
		"not a count":      {map[string]string{"LATCH_THROTTLE_ACCOUNT_FREE": "many"}, "LATCH_THROTTLE_ACCOUNT_FREE"},
		"lockout":          {map[string]string{"LATCH_THROTTLE_MAX_DELAY": "2h"}, "LATCH_THROTTLE_MAX_DELAY 2h0m0s is over 1h0m0s"},
		"window too short": {map[string]string{"LATCH_THROTTLE_WINDOW": "1m"}, "LATCH_THROTTLE_WINDOW"},
		"base over max":    {map[string]string{"LATCH_THROTTLE_BASE_DELAY": "20m"}, "LATCH_THROTTLE_BASE_DELAY must not exceed"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := latch.ConfigFrom(func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			if err == nil {
				_, err = latch.New(bg, cfg)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// TestThrottleBurst: attempts at one account made all at once get no more
// tries than attempts made one after another, and no fewer: of 20 racing
// from one address, exactly the smaller of the account's and the pair's
// free attempts are let through, however the racers interleave (each case
// runs many bursts; one where an attempt counted in the pair bucket was
// refused by the account's, wasting a free try, failed within a few).
func TestThrottleBurst(t *testing.T) {
	for _, c := range []struct{ pair, account int }{{2, 3}, {3, 2}, {2, 2}} {
		t.Run("pair"+strconv.Itoa(c.pair)+"_account"+strconv.Itoa(c.account), func(t *testing.T) {
			for range 30 {
				e := newEnv(t, latch.ModeOpaque, func(cfg *latch.Config) {
					cfg.Throttle = latch.ThrottleConfig{PairFree: c.pair, AccountFree: c.account, AddressFree: 100,
						BaseDelay: latch.Duration(time.Second), MaxDelay: latch.Duration(8 * time.Second), Window: latch.Duration(time.Hour)}
				})
				var wg sync.WaitGroup
				var through atomic.Int32
				for range 20 {
					wg.Go(func() {
						att, err := e.Auth.Throttle(bg, "alice", "192.0.2.1")
						switch {
						case err == nil:
							through.Add(1)
							if err := att.Done(bg, false); err != nil {
								t.Error(err)
							}
						case !errors.Is(err, latch.ErrThrottled):
							t.Errorf("Throttle: %v", err)
						}
					})
				}
				wg.Wait()
				if n, want := through.Load(), int32(min(c.pair, c.account)); n != want {
					t.Fatalf("%d of 20 attempts made at once were let through, want the %d free ones", n, want)
				}
				if err := fail(t, e, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
					t.Fatalf("after the burst: %v, want ErrThrottled", err)
				}
			}
		})
	}
}

// TestThrottleKeysNeedTheSessionKey: the store's bucket keys are keyed
// with the session key: an Auth with another one, on the same store,
// counts afresh.
func TestThrottleKeysNeedTheSessionKey(t *testing.T) {
	e := throttleEnv(t)
	for range 2 {
		fail(t, e, "alice", "192.0.2.1")
	}
	if err := fail(t, e, "alice", "192.0.2.1"); !errors.Is(err, latch.ErrThrottled) {
		t.Fatalf("third failure: %v, want ErrThrottled", err)
	}
	cfg := e.Auth.Config()
	cfg.SessionKey = "VCeNMHeMu0RMIkuQab1Xbl6sjlS/fgC0uaXp5nK0830="
	other, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithClock(e.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Throttle(bg, "alice", "192.0.2.1"); err != nil {
		t.Errorf("another session key reads the same counts: %v", err)
	}
}
