package mongostore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

// Concurrent AddStrikes of one key from two Stores on one database count
// exactly: the final Count is the number of strikes, and each returned a
// different Count, as if they had run one after the other.
func TestAddStrikeConcurrent(t *testing.T) {
	a := newStore(t)
	b := twin(t, a)
	defer b.Close()
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	const perStore, each = 6, 8
	var (
		mu  sync.Mutex
		got []int
		wg  sync.WaitGroup
	)
	for i := range 2 * perStore {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			for j := range each {
				r, err := s.AddStrike(ctx, "ip:192.0.2.1", now.Add(time.Duration(j)*time.Millisecond), time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, r.Count)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const n = 2 * perStore * each
	slices.Sort(got)
	for i, c := range got {
		if c != i+1 {
			t.Fatalf("returned counts %v, want each of 1..%d once", got, n)
		}
	}
	r, err := b.Strikes(ctx, []string{"ip:192.0.2.1"}, now)
	if err != nil || len(r) != 1 || r[0].Count != n || !r[0].Last.Equal(now.Add((each-1)*time.Millisecond)) {
		t.Fatalf("Strikes = %+v, %v; want Count %d, Last the latest strike", r, err, n)
	}
}

// A record expires ttl after its latest strike: a strike at or after that
// restarts it at 1. Last never moves back, and the expiry follows Last.
func TestAddStrikeExpiryAndLast(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	add := func(at time.Time, want store.Strikes) {
		t.Helper()
		got, err := s.AddStrike(ctx, "user:alice", at, time.Minute)
		if err != nil || got.Count != want.Count || !got.Last.Equal(want.Last) {
			t.Fatalf("AddStrike at %s = %+v, %v; want %+v", at, got, err, want)
		}
	}
	add(now, store.Strikes{Count: 1, Last: now})
	add(now.Add(30*time.Second), store.Strikes{Count: 2, Last: now.Add(30 * time.Second)})
	// Earlier than Last: counts, Last stays.
	add(now.Add(10*time.Second), store.Strikes{Count: 3, Last: now.Add(30 * time.Second)})
	// Still live a minute after the first strike: the expiry follows Last.
	add(now.Add(89*time.Second), store.Strikes{Count: 4, Last: now.Add(89 * time.Second)})
	read := func(at time.Time) store.Strikes {
		t.Helper()
		r, err := s.Strikes(ctx, []string{"user:alice"}, at)
		if err != nil {
			t.Fatal(err)
		}
		return r[0]
	}
	if r := read(now.Add(149*time.Second - time.Millisecond)); r.Count != 4 {
		t.Fatalf("just before expiry: %+v", r)
	}
	if r := read(now.Add(149 * time.Second)); r != (store.Strikes{}) {
		t.Fatalf("at expiry: %+v, want the zero Strikes", r)
	}
	add(now.Add(149*time.Second), store.Strikes{Count: 1, Last: now.Add(149 * time.Second)})
}

// Strikes answers in the order of the keys, absent ones as zero;
// ClearStrikes deletes the records of its keys only, and a strike after it
// starts again at 1.
func TestStrikesOrderAndClear(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	keys := []string{"k3", "k1", "absent", "k2"}
	for i, k := range []string{"k1", "k2", "k3"} {
		for range i + 1 {
			if _, err := s.AddStrike(ctx, k, now, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts := func() []int {
		t.Helper()
		r, err := s.Strikes(ctx, keys, now)
		if err != nil || len(r) != len(keys) {
			t.Fatalf("Strikes = %v, %v", r, err)
		}
		var c []int
		for _, x := range r {
			c = append(c, x.Count)
		}
		return c
	}
	if c := counts(); !slices.Equal(c, []int{3, 1, 0, 2}) {
		t.Fatalf("counts %v, want [3 1 0 2]", c)
	}
	if err := s.ClearStrikes(ctx, []string{"k3", "absent", "k1"}); err != nil {
		t.Fatal(err)
	}
	if c := counts(); !slices.Equal(c, []int{0, 0, 0, 2}) {
		t.Fatalf("after ClearStrikes: counts %v, want [0 0 0 2]", c)
	}
	if err := s.ClearStrikes(ctx, []string{"k3"}); err != nil {
		t.Fatalf("ClearStrikes of a cleared key: %v", err)
	}
	if r, err := s.AddStrike(ctx, "k3", now, time.Hour); err != nil || r.Count != 1 {
		t.Fatalf("AddStrike after ClearStrikes = %+v, %v; want Count 1", r, err)
	}
	if r, err := s.Strikes(ctx, nil, now); err != nil || len(r) != 0 {
		t.Fatalf("Strikes of no keys = %v, %v", r, err)
	}
	if err := s.ClearStrikes(ctx, nil); err != nil {
		t.Fatalf("ClearStrikes of no keys: %v", err)
	}
}

// A key that is a prefix of another, or looks like another's document id,
// shares nothing with it.
func TestStrikeKeysApart(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	keys := []string{"a", "a/", "a/0", "1a", "01a/00000000000000000000"}
	for i, k := range keys {
		for range i + 1 {
			if _, err := s.AddStrike(ctx, k, now, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := s.Strikes(ctx, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range r {
		if x.Count != i+1 {
			t.Errorf("key %q: Count %d, want %d", keys[i], x.Count, i+1)
		}
	}
}

// Keys are checked before any I/O: empty, too long or not printable
// ASCII is ErrInvalid, from every method; so is a ttl that is not
// positive.
func TestStrikeKeysInvalid(t *testing.T) {
	s := brokenStore(t) // any I/O would fail differently
	ctx := context.Background()
	now := time.Now()
	for _, k := range []string{"", strings.Repeat("k", store.MaxStrikeKeyLen+1), "a\x00", "tab\t", "del\x7f", "é"} {
		if _, err := s.AddStrike(ctx, k, now, time.Minute); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddStrike(%q) = %v, want ErrInvalid", k, err)
		}
		if _, err := s.Strikes(ctx, []string{"ok", k}, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Strikes(%q) = %v, want ErrInvalid", k, err)
		}
		if err := s.ClearStrikes(ctx, []string{"ok", k}); !errors.Is(err, ErrInvalid) {
			t.Errorf("ClearStrikes(%q) = %v, want ErrInvalid", k, err)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.AddStrike(ctx, "ok", now, ttl); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddStrike with ttl %v = %v, want ErrInvalid", ttl, err)
		}
	}
	if _, err := s.AddStrike(ctx, strings.Repeat("~", store.MaxStrikeKeyLen), now, time.Minute); errors.Is(err, ErrInvalid) {
		t.Errorf("AddStrike with the longest key = %v, want an outage", err)
	}
}

// Sweep, and the sweeper, remove the documents of expired records (the
// grace after) and leave live ones.
func TestSweepStrikes(t *testing.T) {
	ctx := context.Background()
	base := time.Now().Truncate(time.Millisecond)
	seed := func(t *testing.T, s *Store) {
		t.Helper()
		for i := range 3 {
			if _, err := s.AddStrike(ctx, "old", base.Add(time.Duration(i)*time.Second), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ClearStrikes(ctx, []string{"old"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddStrike(ctx, "live", base, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	sweptAt := base.Add(2*time.Minute + DefaultSweepGrace)

	t.Run("sweep", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		if n, err := s.Sweep(ctx, sweptAt.Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("Sweep within the grace = %d, %v; want 0", n, err)
		}
		if n, err := s.Sweep(ctx, sweptAt); err != nil || n != 4 {
			t.Fatalf("Sweep = %d, %v; want 4 (3 strikes and the clear)", n, err)
		}
		if n := count(t, s.strikes, bson.D{}); n != 1 {
			t.Fatalf("%d strike documents left, want the live one", n)
		}
		r, err := s.Strikes(ctx, []string{"old", "live"}, base)
		if err != nil || r[0].Count != 0 || r[1].Count != 1 {
			t.Fatalf("Strikes after Sweep = %+v, %v", r, err)
		}
		if r, err := s.AddStrike(ctx, "old", sweptAt, time.Minute); err != nil || r.Count != 1 {
			t.Fatalf("AddStrike after Sweep = %+v, %v; want Count 1", r, err)
		}
	})

	t.Run("sweeper", func(t *testing.T) {
		m := newStore(t)
		seed(t, m)
		s, err := New(m.db, WithCollectionPrefix(m.prefix), WithSweepInterval(5*time.Millisecond),
			WithClock(func() time.Time { return sweptAt }),
			WithErrorHook(func(err error) { t.Errorf("sweeper error: %v", err) }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		deadline := time.Now().Add(20 * time.Second)
		for count(t, m.strikes, bson.D{}) != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the sweeper did not delete the expired strike documents")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
