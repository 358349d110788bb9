package memstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// strikeRecords returns how many strike records m holds in memory.
func strikeRecords(m *Store) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.strikes)
}

// addStrikes records one strike at now, with ttl, for each of n keys
// named prefix-0, prefix-1, ...
func addStrikes(t *testing.T, m *Store, prefix string, n int, now time.Time, ttl time.Duration) {
	t.Helper()
	for i := range n {
		if _, err := m.AddStrike(context.Background(), fmt.Sprintf("%s-%d", prefix, i), now, ttl); err != nil {
			t.Fatalf("AddStrike: %v", err)
		}
	}
}

func TestSweepFreesExpiredStrikes(t *testing.T) {
	m := New()
	addStrikes(t, m, "gone", 5, t0, time.Hour)
	addStrikes(t, m, "kept", 2, t0.Add(30*time.Minute), time.Hour)
	if n := m.Sweep(t0.Add(time.Hour)); n != 5 { // expiry exactly at now
		t.Fatalf("Sweep = %d, want the 5 expired records", n)
	}
	if n := strikeRecords(m); n != 2 {
		t.Fatalf("%d strike records after Sweep, want 2", n)
	}
	l, err := m.Strikes(context.Background(), []string{"kept-0", "kept-1"}, t0.Add(time.Hour))
	if err != nil || l[0].Count != 1 || l[1].Count != 1 {
		t.Errorf("Strikes of the records Sweep kept = %v, %v", l, err)
	}
}

// Failed logins create no session: AddStrike counts towards the periodic
// sweep as Create does, so a flood of failures stays bounded.
func TestAddStrikeSweepsNowAndThen(t *testing.T) {
	later := t0.Add(2 * time.Hour)
	m := New(WithClock(func() time.Time { return later }))
	addStrikes(t, m, "gone", 1000, t0, time.Hour)
	addStrikes(t, m, "live", 24, later, time.Hour)
	if n := strikeRecords(m); n != 24 {
		t.Errorf("%d strike records after 1024 AddStrikes, want the 24 live ones", n)
	}
}

func TestCreateSweepsExpiredStrikes(t *testing.T) {
	later := t0.Add(2 * time.Hour)
	m := New(WithClock(func() time.Time { return later }))
	addStrikes(t, m, "gone", 1000, t0, time.Hour)
	for i := range 24 {
		mustCreate(t, m, newSession(fmt.Sprintf("u-%d", i), later), 0)
	}
	if n := strikeRecords(m); n != 0 {
		t.Errorf("%d strike records after 1024 writes, want none: all expired", n)
	}
	checkIndex(t, m)
}

// A strike whose now runs far ahead does not sweep records that are live
// by the store's own clock.
func TestAddStrikeSweepIgnoresAClockAhead(t *testing.T) {
	m := New(WithClock(func() time.Time { return t0 }))
	addStrikes(t, m, "k", 1023, t0, time.Hour)
	addStrikes(t, m, "ahead", 1, t0.Add(365*24*time.Hour), time.Hour)
	if n := strikeRecords(m); n != 1024 {
		t.Errorf("%d strike records left, want all 1024", n)
	}
}

func TestCloseDropsStrikes(t *testing.T) {
	m := New()
	addStrikes(t, m, "k", 3, t0, time.Hour)
	m.Close()
	if n := strikeRecords(m); n != 0 {
		t.Errorf("Close kept %d strike records in memory", n)
	}
}
