package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// strikes returns s's records of keys at now, failing t on an error.
func strikes(t testing.TB, s *Store, now time.Time, keys ...string) []store.Strikes {
	t.Helper()
	got, err := s.Strikes(context.Background(), keys, now)
	if err != nil {
		t.Fatalf("Strikes: %v", err)
	}
	if len(got) != len(keys) {
		t.Fatalf("Strikes of %d keys returned %d records", len(keys), len(got))
	}
	return got
}

// strike adds a strike, failing t on an error.
func strike(t testing.TB, s *Store, key string, now time.Time, ttl time.Duration) store.Strikes {
	t.Helper()
	r, err := s.AddStrike(context.Background(), key, now, ttl)
	if err != nil {
		t.Fatalf("AddStrike: %v", err)
	}
	return r
}

// TestAddStrike: a record starts at 1, grows by one per strike, keeps its
// latest Last when a strike comes with an earlier now, expires at
// Last+ttl by the caller's now (ttl rounded up to the millisecond), and
// then restarts at 1; Strikes reads the same.
func TestAddStrike(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		s := newStore(t, tp.client(t))
		now := time.Now().Add(300 * time.Microsecond) // not a whole millisecond
		const ttl = 10*time.Minute + 1500*time.Microsecond
		want := func(step string, got store.Strikes, n int, last time.Time) {
			t.Helper()
			if got.Count != n || !got.Last.Equal(ms(last)) {
				t.Errorf("%s: %d at %v, want %d at %v", step, got.Count, got.Last, n, ms(last))
			}
		}
		want("first strike", strike(t, s, "ip:192.0.2.7", now, ttl), 1, now)
		later := now.Add(time.Second)
		want("second strike", strike(t, s, "ip:192.0.2.7", later, ttl), 2, later)
		want("a strike with an earlier now", strike(t, s, "ip:192.0.2.7", now.Add(time.Millisecond), ttl), 3, later)
		want("Strikes", strikes(t, s, later, "ip:192.0.2.7")[0], 3, later)
		end := ms(later).Add(10*time.Minute + 2*time.Millisecond) // Last + ttl rounded up
		want("Strikes just before the end", strikes(t, s, end.Add(-time.Nanosecond), "ip:192.0.2.7")[0], 3, later)
		if got := strikes(t, s, end, "ip:192.0.2.7")[0]; got != (store.Strikes{}) {
			t.Errorf("Strikes at Last+ttl = %+v, want none", got)
		}
		want("a strike after the end", strike(t, s, "ip:192.0.2.7", end, ttl), 1, end)
		// Another key, and a key with braces, are records of their own.
		want("another key", strike(t, s, "user:{ip:192.0.2.7}", now, ttl), 1, now)
		want("a key with a closing brace", strike(t, s, "ip:192.0.2.7}", now, ttl), 1, now)
		want("the first key", strikes(t, s, end, "ip:192.0.2.7")[0], 1, end)
	})
}

// TestAddStrikeConcurrent: strikes from many goroutines through two
// Stores on two clients, sharing a key prefix, count each strike exactly
// once: the counts returned are 1 to N, each once.
func TestAddStrikeConcurrent(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		a := newStore(t, tp.client(t))
		b := twin(t, tp, a)
		const n = 200
		now := time.Now()
		counts := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				r, err := s.AddStrike(context.Background(), "login:alice", now.Add(time.Duration(i)*time.Millisecond), time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				counts <- r.Count
			})
		}
		wg.Wait()
		close(counts)
		got := slices.Sorted(func(yield func(int) bool) {
			for c := range counts {
				if !yield(c) {
					return
				}
			}
		})
		for i, c := range got {
			if c != i+1 {
				t.Fatalf("counts returned %v, want 1 to %d each once", got, n)
			}
		}
		if r := strikes(t, b, now.Add(n*time.Millisecond), "login:alice")[0]; r.Count != n || !r.Last.Equal(ms(now.Add((n-1)*time.Millisecond))) {
			t.Errorf("Strikes = %d at %v, want %d at the latest now", r.Count, r.Last, n)
		}
	})
}

// TestStrikesOrder: Strikes returns the records in the order of the keys
// asked, absent and repeated keys included, with keys spread over every
// master of the cluster.
func TestStrikesOrder(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now()
		var keys []string
		for i := range 30 {
			k := fmt.Sprintf("user:%d", i)
			keys = append(keys, k)
			for range i % 4 { // 0 to 3 strikes: user:0 has none
				strike(t, s, k, now, time.Hour)
			}
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			masters := map[string]bool{}
			for _, k := range keys {
				m, err := cc.MasterForKey(ctx, s.strikeKey(k))
				if err != nil {
					t.Fatal(err)
				}
				masters[m.Options().Addr] = true
			}
			if len(masters) != 3 {
				t.Fatalf("30 keys landed on %d masters, want all 3", len(masters))
			}
		}
		ask := slices.Clone(keys)
		slices.Reverse(ask)
		ask = append(ask, "user:3", "never struck", "user:2")
		got := strikes(t, s, now, ask...)
		for i, k := range ask {
			want := 0
			if _, num, ok := strings.Cut(k, ":"); ok {
				fmt.Sscan(num, &want)
				want %= 4
			}
			if got[i].Count != want {
				t.Errorf("Strikes[%d] (%s) = %d, want %d", i, k, got[i].Count, want)
			}
		}
		if got, err := s.Strikes(ctx, nil, now); err != nil || got == nil || len(got) != 0 {
			t.Errorf("Strikes of no key = %v, %v; want an empty slice", got, err)
		}
	})
}

// TestClearStrikes: ClearStrikes deletes the keys' records from Redis,
// absent keys are no error, other records stay.
func TestClearStrikes(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now()
		for i := range 10 {
			strike(t, s, fmt.Sprint("k", i), now, time.Hour)
		}
		clear := []string{"k1", "k4", "k7", "never struck", "k9"}
		if err := s.ClearStrikes(ctx, clear); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			k := fmt.Sprint("k", i)
			n, err := c.Exists(ctx, s.strikeKey(k)).Result()
			if err != nil {
				t.Fatal(err)
			}
			want := int64(1 - btoi(slices.Contains(clear, k)))
			if n != want {
				t.Errorf("%s: EXISTS = %d, want %d", k, n, want)
			}
			if got := strikes(t, s, now, k)[0].Count; got != int(want) {
				t.Errorf("%s: %d strikes after ClearStrikes, want %d", k, got, want)
			}
		}
		if err := s.ClearStrikes(ctx, nil); err != nil {
			t.Errorf("ClearStrikes of no key = %v", err)
		}
	})
}

// TestStrikeKeyExpires: a bucket's key has a TTL, the record's ttl plus
// the grace, counted on the server's clock; Redis really removes it.
func TestStrikeKeyExpires(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Add(-time.Hour) // the caller's clock does not set the key's lifetime
		strike(t, s, "long", now, time.Hour)
		ttl, err := c.PTTL(ctx, s.strikeKey("long")).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Hour + strikeGrace; ttl <= want-10*time.Second || ttl > want {
			t.Errorf("PTTL = %v, want about %v", ttl, want)
		}
		s.grace = 0
		strike(t, s, "short", time.Now(), 200*time.Millisecond)
		if ttl, err := c.PTTL(ctx, s.strikeKey("short")).Result(); err != nil || ttl <= 0 || ttl > 200*time.Millisecond {
			t.Fatalf("PTTL = %v, %v; want at most 200ms", ttl, err)
		}
		time.Sleep(400 * time.Millisecond)
		if n, err := c.Exists(ctx, s.strikeKey("short")).Result(); err != nil || n != 0 {
			t.Errorf("the key of an expired record still exists (%d, %v)", n, err)
		}
		for _, k := range keysOf(t, c, s.prefix) {
			if k != s.strikeKey("long") {
				t.Errorf("unexpected key %q", k)
			}
		}
	})
}

// TestStrikesRefused: a key that is empty, too long or not printable
// ASCII, anywhere in the list, a ttl that is not positive and a now
// beyond 2^53 ms are ErrInvalid before any command; a value this package
// did not write is an error, not a record; a closed Store is ErrClosed.
func TestStrikesRefused(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now()
		h := &counter{}
		c.AddHook(h)
		for _, k := range []string{"", strings.Repeat("k", store.MaxStrikeKeyLen+1), "nul\x00", "tab\t", "new\nline", "del\x7f", "é"} {
			for name, op := range map[string]func() error{
				"AddStrike":    func() error { _, err := s.AddStrike(ctx, k, now, time.Hour); return err },
				"Strikes":      func() error { _, err := s.Strikes(ctx, []string{"fine", k}, now); return err },
				"ClearStrikes": func() error { return s.ClearStrikes(ctx, []string{"fine", k}) },
			} {
				if err := op(); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\x00") {
					t.Errorf("%s of %q = %v, want ErrInvalid", name, k, err)
				}
			}
		}
		for _, ttl := range []time.Duration{0, -time.Second} {
			if _, err := s.AddStrike(ctx, "k", now, ttl); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddStrike with ttl %v = %v, want ErrInvalid", ttl, err)
			}
		}
		if _, err := s.AddStrike(ctx, "k", maxTime.Add(time.Millisecond), time.Hour); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddStrike at a now beyond 2^53 ms = %v, want ErrInvalid", err)
		}
		if n := h.n.Load(); n != 0 {
			t.Errorf("refused calls sent %d commands", n)
		}
		if r := strike(t, s, strings.Repeat("~", store.MaxStrikeKeyLen), now, time.Hour); r.Count != 1 {
			t.Errorf("a key of %d printable characters: %+v", store.MaxStrikeKeyLen, r)
		}
		if r := strike(t, s, " ", now, time.Hour); r.Count != 1 {
			t.Errorf("a key of one space: %+v", r)
		}

		if err := c.Set(ctx, s.strikeKey("junk"), "not a record", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddStrike(ctx, "junk", now, time.Hour); !errors.Is(err, errCorrupt) {
			t.Errorf("AddStrike on a foreign value = %v, want errCorrupt", err)
		}
		if _, err := s.Strikes(ctx, []string{"junk"}, now); !errors.Is(err, errCorrupt) {
			t.Errorf("Strikes of a foreign value = %v, want errCorrupt", err)
		}

		s.Close()
		if _, err := s.AddStrike(ctx, "k", now, time.Hour); !errors.Is(err, ErrClosed) {
			t.Errorf("AddStrike after Close = %v, want ErrClosed", err)
		}
		if _, err := s.Strikes(ctx, []string{"k"}, now); !errors.Is(err, ErrClosed) {
			t.Errorf("Strikes after Close = %v, want ErrClosed", err)
		}
		if err := s.ClearStrikes(ctx, []string{"k"}); !errors.Is(err, ErrClosed) {
			t.Errorf("ClearStrikes after Close = %v, want ErrClosed", err)
		}
	})
}

// twin returns a second Store on s's keys through a client of its own, as
// a second process would open it.
func twin(t testing.TB, tp topology, s *Store) *Store {
	t.Helper()
	s2, err := New(tp.client(t), WithKeyPrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s2
}
