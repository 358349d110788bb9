package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestThrottle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		ctx := context.Background()
		base := time.Now().Truncate(time.Millisecond)
		const ttl = time.Minute
		add := func(t *testing.T, s *Store, key string, at time.Time, want store.Strikes) {
			t.Helper()
			got, err := s.AddStrike(ctx, key, at, ttl)
			if err != nil || got.Count != want.Count || !got.Last.Equal(want.Last) {
				t.Fatalf("AddStrike(%q) at %v = %+v, %v; want %+v", key, at, got, err, want)
			}
		}
		read := func(t *testing.T, s *Store, keys []string, at time.Time) []store.Strikes {
			t.Helper()
			got, err := s.Strikes(ctx, keys, at)
			if err != nil || len(got) != len(keys) {
				t.Fatalf("Strikes(%q) = %+v, %v", keys, got, err)
			}
			return got
		}

		t.Run("counts-and-expiry-restarts-at-1", func(t *testing.T) {
			s := newStore(t, db)
			add(t, s, "ip:203.0.113.7", base, store.Strikes{Count: 1, Last: base})
			add(t, s, "ip:203.0.113.7", base.Add(time.Second), store.Strikes{Count: 2, Last: base.Add(time.Second)})
			end := base.Add(time.Second + ttl) // Last+ttl
			if got := read(t, s, []string{"ip:203.0.113.7"}, end.Add(-time.Millisecond)); got[0].Count != 2 {
				t.Errorf("just before expiry: %+v, want Count 2", got[0])
			}
			if got := read(t, s, []string{"ip:203.0.113.7"}, end); got[0] != (store.Strikes{}) {
				t.Errorf("at expiry: %+v, want the zero Strikes", got[0])
			}
			add(t, s, "ip:203.0.113.7", end, store.Strikes{Count: 1, Last: end})
		})

		t.Run("last-never-moves-back", func(t *testing.T) {
			s := newStore(t, db)
			later := base.Add(10 * time.Second) // a node whose clock runs ahead
			add(t, s, "user:alice", later, store.Strikes{Count: 1, Last: later})
			add(t, s, "user:alice", base, store.Strikes{Count: 2, Last: later})
			// The record expires ttl after the later strike.
			if got := read(t, s, []string{"user:alice"}, later.Add(ttl-time.Millisecond)); got[0].Count != 2 || !got[0].Last.Equal(later) {
				t.Errorf("before Last+ttl: %+v", got[0])
			}
			if got := read(t, s, []string{"user:alice"}, later.Add(ttl)); got[0].Count != 0 {
				t.Errorf("at Last+ttl: %+v, want expired", got[0])
			}
		})

		// At the end of the int64 range expiries are clamped, never wrapped.
		t.Run("end-of-range", func(t *testing.T) {
			s := newStore(t, db)
			end := time.UnixMilli(math.MaxInt64 - 10)
			add(t, s, "k", end, store.Strikes{Count: 1, Last: end})
			add(t, s, "k", end.Add(-time.Second), store.Strikes{Count: 2, Last: end})
			if got := read(t, s, []string{"k"}, end.Add(5*time.Millisecond)); got[0].Count != 2 {
				t.Errorf("Strikes near the end = %+v, want Count 2", got[0])
			}
			if _, err := s.AddStrike(ctx, "k", time.Unix(1<<62, 0), ttl); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddStrike beyond the range = %v, want ErrInvalid", err)
			}
		})

		t.Run("strikes-in-the-order-given", func(t *testing.T) {
			s := newStore(t, db)
			for i, k := range []string{"a", "b", "c"} {
				for range i + 1 {
					if _, err := s.AddStrike(ctx, k, base, ttl); err != nil {
						t.Fatal(err)
					}
				}
			}
			keys := []string{"c", "missing", "a", "b", "a"}
			got := read(t, s, keys, base)
			for i, want := range []int{3, 0, 1, 2, 1} {
				if got[i].Count != want || (want > 0) != got[i].Last.Equal(base) {
					t.Errorf("Strikes[%d] (%q) = %+v, want Count %d", i, keys[i], got[i], want)
				}
			}
			// More keys than one IN list holds.
			many := make([]string, 1200)
			for i := range many {
				many[i] = fmt.Sprintf("k%d", i)
			}
			many[0], many[700], many[1199] = "b", "c", "a"
			got = read(t, s, many, base)
			for i, g := range got {
				want := map[int]int{0: 2, 700: 3, 1199: 1}[i]
				if g.Count != want {
					t.Errorf("Strikes of 1200 keys: [%d] = %+v, want Count %d", i, g, want)
				}
			}
			if got := read(t, s, nil, base); got == nil {
				t.Error("Strikes of no key = nil, want an empty slice")
			}
		})

		t.Run("clear", func(t *testing.T) {
			s := newStore(t, db)
			for _, k := range []string{"a", "b"} {
				if _, err := s.AddStrike(ctx, k, base, ttl); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.ClearStrikes(ctx, []string{"a", "missing", "a"}); err != nil {
				t.Fatalf("ClearStrikes: %v", err)
			}
			if err := s.ClearStrikes(ctx, nil); err != nil {
				t.Fatalf("ClearStrikes of no key: %v", err)
			}
			if got := read(t, s, []string{"a", "b"}, base); got[0].Count != 0 || got[1].Count != 1 {
				t.Errorf("after clearing a: %+v", got)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"strikes"); n != 1 {
				t.Errorf("%d rows after clearing, want 1", n)
			}
			add(t, s, "a", base, store.Strikes{Count: 1, Last: base})
		})

		// Refused before any query: an unreachable database answers the
		// same.
		t.Run("invalid-keys", func(t *testing.T) {
			broken := brokenStore(t, b)
			for _, k := range []string{"", strings.Repeat("k", store.MaxStrikeKeyLen+1), "é", "tab\tkey", "nul\x00"} {
				_, err1 := broken.AddStrike(ctx, k, base, ttl)
				_, err2 := broken.Strikes(ctx, []string{"fine", k}, base)
				err3 := broken.ClearStrikes(ctx, []string{"fine", k})
				for i, err := range []error{err1, err2, err3} {
					if !errors.Is(err, ErrInvalid) {
						t.Errorf("call %d with key %q = %v, want ErrInvalid", i+1, k, err)
					}
				}
			}
			if _, err := broken.AddStrike(ctx, "k", base, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddStrike with ttl 0 = %v, want ErrInvalid", err)
			}
			s := newStore(t, db)
			add(t, s, strings.Repeat("~", store.MaxStrikeKeyLen), base, store.Strikes{Count: 1, Last: base})
			add(t, s, " ", base, store.Strikes{Count: 1, Last: base})
			// Byte for byte: no case folding, no PAD SPACE.
			add(t, s, "  ", base, store.Strikes{Count: 1, Last: base})
			add(t, s, "K", base, store.Strikes{Count: 1, Last: base})
			add(t, s, "k", base, store.Strikes{Count: 1, Last: base})
		})

		// Many goroutines over two Stores on two pools of one database, as
		// two processes would: every strike counts exactly once, and each
		// caller sees a count of its own.
		t.Run("concurrent-across-stores", func(t *testing.T) {
			db := openDB(t, b)
			s1 := newStore(t, db)
			s2 := db.twin(t, s1)
			const n = 200
			counts := make([]int, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			begin := make(chan struct{})
			for i := range n {
				s := []*Store{s1, s2}[i%2]
				wg.Go(func() {
					<-begin
					var got store.Strikes
					got, errs[i] = s.AddStrike(ctx, "ip:198.51.100.1", base.Add(time.Duration(i)*time.Millisecond), time.Hour)
					counts[i] = got.Count
				})
			}
			close(begin)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("AddStrike #%d: %v", i, err)
				}
			}
			slices.Sort(counts)
			for i, c := range counts {
				if c != i+1 {
					t.Fatalf("the counts returned are not 1..%d: %v", n, counts)
				}
			}
			got := read(t, s2, []string{"ip:198.51.100.1"}, base)
			if want := base.Add((n - 1) * time.Millisecond); got[0].Count != n || !got[0].Last.Equal(want) {
				t.Errorf("Strikes = %+v, want Count %d, Last %v", got[0], n, want)
			}
		})
	})
}
