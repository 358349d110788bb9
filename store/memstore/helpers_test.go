package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newSession returns a session of subject created at created: idle for an
// hour, absolute expiry after a day.
func newSession(subject string, created time.Time) *store.Session {
	return &store.Session{
		Subject:         subject,
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0", IP: "192.0.2.1"},
		SecretHash:      hash("secret"),
		RefreshHash:     hash("refresh"),
		CreatedAt:       created,
		LastUsedAt:      created,
		FreshUntil:      created.Add(5 * time.Minute),
		AccessExpiresAt: created.Add(15 * time.Minute),
		IdleUntil:       created.Add(time.Hour),
		ExpiresAt:       created.Add(24 * time.Hour),
	}
}

func mustCreate(t testing.TB, m *Store, s *store.Session, max int) string {
	t.Helper()
	if err := m.Create(context.Background(), s, max); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s.ID
}

func mustGet(t testing.TB, m *Store, id string, now time.Time) *store.Session {
	t.Helper()
	s, err := m.Get(context.Background(), id, now)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return s
}

func mustList(t testing.TB, m *Store, subject string, now time.Time) []store.Session {
	t.Helper()
	l, err := m.List(context.Background(), subject, now)
	if err != nil {
		t.Fatalf("List(%q): %v", subject, err)
	}
	return l
}

func assertNotFound(t testing.TB, m *Store, id string, now time.Time) {
	t.Helper()
	if s, err := m.Get(context.Background(), id, now); !errors.Is(err, store.ErrNotFound) || s != nil {
		t.Fatalf("Get(%s) = %v, %v; want nil, ErrNotFound", id, s, err)
	}
}

// sameSession fails unless got equals want field by field.
func sameSession(t testing.TB, got, want *store.Session) {
	t.Helper()
	if got.ID != want.ID || got.Subject != want.Subject || got.Device != want.Device {
		t.Errorf("identity = %q %q %+v, want %q %q %+v", got.ID, got.Subject, got.Device, want.ID, want.Subject, want.Device)
	}
	for _, f := range []struct {
		name      string
		got, want []byte
	}{{"SecretHash", got.SecretHash, want.SecretHash}, {"RefreshHash", got.RefreshHash, want.RefreshHash}} {
		if !bytes.Equal(f.got, f.want) || (f.got == nil) != (f.want == nil) {
			t.Errorf("%s = %x, want %x", f.name, f.got, f.want)
		}
	}
	if len(got.Spent) != len(want.Spent) {
		t.Errorf("Spent has %d hashes, want %d", len(got.Spent), len(want.Spent))
	} else {
		for i := range got.Spent {
			if !bytes.Equal(got.Spent[i], want.Spent[i]) {
				t.Errorf("Spent[%d] = %x, want %x", i, got.Spent[i], want.Spent[i])
			}
		}
	}
	if !reflect.DeepEqual(got.Claims, want.Claims) {
		t.Errorf("Claims = %#v, want %#v", got.Claims, want.Claims)
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
		{"FreshUntil", got.FreshUntil, want.FreshUntil},
		{"AccessExpiresAt", got.AccessExpiresAt, want.AccessExpiresAt},
		{"IdleUntil", got.IdleUntil, want.IdleUntil},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	} {
		if !f.got.Equal(f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

// checkIndex fails unless the id and subject indexes agree.
func checkIndex(t testing.TB, m *Store) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for subject, ids := range m.bySubject {
		if len(ids) == 0 {
			t.Errorf("subject %q has an empty id set", subject)
		}
		for id := range ids {
			n++
			if x := m.sessions[id]; x == nil || x.Subject != subject || x.ID != id {
				t.Errorf("index of %q lists %s, stored as %+v", subject, id, x)
			}
		}
	}
	if n != len(m.sessions) {
		t.Errorf("subject index holds %d ids, id index %d", n, len(m.sessions))
	}
}

// snapshot is the stored sessions by identity. memstore never changes a
// stored *store.Session in place, so every write (an insertion, a
// deletion, an update) shows as a difference from a snapshot taken
// before it: the tests count writes with it, as they count those of the
// other stores through their backends' hooks.
type snapshot map[string]*store.Session

func snap(m *Store) snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.sessions)
}

// changes returns how many sessions were added, deleted or replaced since
// the snapshot was taken.
func (s snapshot) changes(m *Store) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, x := range m.sessions {
		if s[id] != x {
			n++
		}
	}
	for id := range s {
		if m.sessions[id] == nil {
			n++
		}
	}
	return n
}

// stored returns the number of sessions of subject held in memory, dead
// ones included.
func stored(m *Store, subject string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bySubject[subject])
}
