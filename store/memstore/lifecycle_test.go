package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestOpen(t *testing.T) {
	if !slices.Contains(store.Schemes(), "memory") {
		t.Fatalf("Schemes() = %v, want memory among them", store.Schemes())
	}
	for _, url := range []string{"memory:", "memory://", "MEMORY:", "memory:?other=1"} {
		t.Run(url, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, url)
			if err != nil {
				t.Fatalf("Open(%q) = %v", url, err)
			}
			if _, ok := st.(*Store); !ok {
				t.Fatalf("Open(%q) returned %T, want *memstore.Store", url, st)
			}
			s := newSession("alice", t0)
			if err := st.Create(ctx, s, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, s.ID, t0); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Open takes the options New does.
	m, err := Open(context.Background(), "memory:", WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	if !m.clock().Equal(t0) {
		t.Errorf("Open's store runs on %v, want the clock of WithClock", m.clock())
	}
	for _, url := range []string{"memory:?latch_sweep_interval=1m", "redis://localhost", "memory"} {
		if m, err := Open(context.Background(), url); !errors.Is(err, ErrInvalid) || m != nil {
			t.Errorf("Open(%q) = %v, %v; want ErrInvalid", url, m, err)
		}
	}
}

func TestSweep(t *testing.T) {
	m := New()
	now := t0.Add(2 * time.Hour)
	var live []string
	for range 3 {
		live = append(live, mustCreate(t, m, newSession("alice", t0.Add(90*time.Minute)), 0))
	}
	mustCreate(t, m, newSession("alice", t0), 0) // idled out at t0+1h
	mustCreate(t, m, newSession("bob", t0), 0)   // idled out: bob's index entry goes
	expired := newSession("carol", t0)
	expired.IdleUntil, expired.ExpiresAt = t0.Add(48*time.Hour), now
	mustCreate(t, m, expired, 0) // absolute expiry exactly at now
	before := snap(m)

	if n := m.Sweep(now); n != 3 {
		t.Fatalf("Sweep = %d, want 3", n)
	}
	if n := before.changes(m); n != 3 {
		t.Errorf("Sweep made %d changes, want 3", n)
	}
	m.mu.Lock()
	total, subjects := len(m.sessions), len(m.bySubject)
	m.mu.Unlock()
	if total != 3 || subjects != 1 {
		t.Fatalf("after Sweep: %d sessions of %d subjects, want 3 of 1", total, subjects)
	}
	for _, id := range live {
		mustGet(t, m, id, now)
	}
	checkIndex(t, m)

	before = snap(m)
	if n := m.Sweep(now); n != 0 {
		t.Fatalf("second Sweep = %d, want 0", n)
	}
	if before.changes(m) != 0 {
		t.Errorf("an empty Sweep changed something")
	}
}

// TestConcurrentUse runs every method at once, for the race detector, and
// then checks that the indexes agree.
func TestConcurrentUse(t *testing.T) {
	m := New(WithClock(func() time.Time { return t0 }))
	ctx := context.Background()
	subjects := []string{"alice", "bob", "carol"}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			subject := subjects[g%len(subjects)]
			var mine []string
			for i := range 200 {
				now := t0.Add(time.Duration(i) * time.Second)
				switch i % 8 {
				case 0, 1:
					s := newSession(subject, now)
					s.Claims = map[string]any{"g": g, "nested": map[string]any{"i": i}}
					if err := m.Create(ctx, s, 10); err != nil {
						t.Error(err)
						return
					}
					mine = append(mine, s.ID)
				case 2:
					if len(mine) > 0 {
						if s, err := m.Get(ctx, mine[len(mine)-1], now); err == nil {
							s.Claims["nested"].(map[string]any)["i"] = -1
						}
					}
				case 3:
					if len(mine) > 0 {
						m.Touch(ctx, mine[len(mine)-1], now, time.Hour, time.Second)
					}
				case 4:
					if len(mine) > 0 {
						r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("refresh"), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
						m.Rotate(ctx, mine[len(mine)-1], r, now)
					}
				case 5:
					if l, err := m.List(ctx, subject, now); err != nil {
						t.Error(err)
					} else if len(l) > 10 {
						t.Errorf("%s holds %d sessions, cap 10", subject, len(l))
					}
				case 6:
					if len(mine) > 0 {
						m.Revoke(ctx, subject, mine[0])
						mine = mine[1:]
					}
				case 7:
					if i%64 == 7 {
						m.RevokeSubject(ctx, subject, "")
					} else if i%32 == 15 {
						m.Sweep(now)
					}
				}
			}
		})
	}
	wg.Wait()
	checkIndex(t, m)
}

func TestCreateSweepsNowAndThen(t *testing.T) {
	later := t0.Add(2 * time.Hour)
	m := New(WithClock(func() time.Time { return later }))
	ctx := context.Background()
	// 1000 sessions of distinct subjects that are all dead by t0+2h.
	for i := range 1000 {
		s := newSession(fmt.Sprintf("gone-%d", i), t0)
		s.IdleUntil = t0.Add(time.Hour)
		if err := m.Create(ctx, s, 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 24 {
		if err := m.Create(ctx, newSession(fmt.Sprintf("live-%d", i), later), 0); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	n := len(m.sessions)
	m.mu.Unlock()
	if n != 24 {
		t.Errorf("%d sessions in memory after 1024 Creates, want the 24 live ones", n)
	}
	checkIndex(t, m)
}

// A login whose clock runs far ahead does not sweep sessions that are live
// by the store's own clock.
func TestCreateSweepIgnoresAClockAhead(t *testing.T) {
	m := New(WithClock(func() time.Time { return t0 }))
	ctx := context.Background()
	for i := range 1023 {
		if err := m.Create(ctx, newSession(fmt.Sprintf("u-%d", i), t0), 0); err != nil {
			t.Fatal(err)
		}
	}
	ahead := newSession("ahead", t0.Add(365*24*time.Hour))
	if err := m.Create(ctx, ahead, 0); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n := len(m.sessions)
	m.mu.Unlock()
	if n != 1024 {
		t.Errorf("%d sessions left, want all 1024", n)
	}
}

func TestClose(t *testing.T) {
	m := New()
	ctx := context.Background()
	id := mustCreate(t, m, newSession("alice", t0), 0)
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if s, err := m.Get(ctx, id, t0); !errors.Is(err, ErrClosed) || s != nil {
		t.Errorf("Get after Close = %v, %v; want nil, ErrClosed", s, err)
	}
	if errors.Is(ErrClosed, store.ErrNotFound) {
		t.Error("ErrClosed must not read as not found")
	}
	if err := m.Create(ctx, newSession("bob", t0), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close = %v, want ErrClosed", err)
	}
	if len(m.sessions) != 0 {
		t.Errorf("Close kept %d sessions in memory", len(m.sessions))
	}
}
