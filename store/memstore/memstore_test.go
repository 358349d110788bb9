package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
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

func TestCreateGet(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("spent 1"), hash("spent 0")}
		s.Claims = map[string]any{"role": "admin"}
		want := *s
		id := mustCreate(t, m, s, 0)
		if !store.ValidID(id) {
			t.Fatalf("Create assigned %q, not a valid id", id)
		}
		want.ID = id
		sameSession(t, mustGet(t, m, id, t0), &want)
		if n := (snapshot{}).changes(m); n != 1 {
			t.Errorf("one Create made %d changes, want 1", n)
		}
		checkIndex(t, m)
	})

	t.Run("preset id is replaced", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		preset := store.NewID()
		s.ID = preset
		id := mustCreate(t, m, s, 0)
		if id == preset {
			t.Fatalf("Create kept the caller's id %s", preset)
		}
		assertNotFound(t, m, preset, t0)
		mustGet(t, m, id, t0)
	})

	t.Run("ids are unique", func(t *testing.T) {
		m := New()
		seen := map[string]bool{}
		for range 1000 {
			id := mustCreate(t, m, newSession("alice", t0), 0)
			if seen[id] {
				t.Fatalf("id %s assigned twice", id)
			}
			seen[id] = true
		}
		if n := stored(m, "alice"); n != 1000 {
			t.Fatalf("stored %d sessions, want 1000", n)
		}
	})

	t.Run("hashes byte for byte", func(t *testing.T) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		cases := []struct {
			name            string
			secret, refresh []byte
			spent           [][]byte
		}{
			{"sha256", hash("a"), hash("b"), [][]byte{hash("c")}},
			{"nil secret (jwt mode)", nil, hash("b"), nil},
			{"zero bytes", make([]byte, 32), make([]byte, 32), [][]byte{make([]byte, 32), make([]byte, 32)}},
			{"every byte value", all, slices.Clone(all[:32]), [][]byte{all[224:], all[:32]}},
			{"high bytes", bytes.Repeat([]byte{0xff, 0x80, 0x00, 0x7f}, 8), bytes.Repeat([]byte{0xc3, 0x28}, 16), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				s.SecretHash, s.RefreshHash, s.Spent = tc.secret, tc.refresh, tc.spent
				want := *s
				want.ID = mustCreate(t, m, s, 0)
				got := mustGet(t, m, want.ID, t0)
				sameSession(t, got, &want)
				if tc.secret == nil && got.SecretHash != nil {
					t.Errorf("nil SecretHash came back as %x", got.SecretHash)
				}
			})
		}
	})

	t.Run("times in any location", func(t *testing.T) {
		m := New()
		zone := time.FixedZone("UTC+5:45", 5*3600+45*60)
		s := newSession("alice", t0.In(zone).Add(123456789*time.Nanosecond))
		want := *s
		want.ID = mustCreate(t, m, s, 0)
		sameSession(t, mustGet(t, m, want.ID, t0), &want)
	})

	t.Run("absent", func(t *testing.T) {
		m := New()
		real := mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		flipped := []byte(real)
		if flipped[0] >= 'a' {
			flipped[0] -= 'a' - 'A'
		} else if flipped[0] >= 'A' {
			flipped[0] += 'a' - 'A'
		} else {
			flipped[0] = 'x'
		}
		ids := []struct{ name, id string }{
			{"unknown valid id", store.NewID()},
			{"case changed", string(flipped)},
			{"empty", ""},
			{"short", real[:store.IDLen-1]},
			{"long", real + "0"},
			{"punctuation", "abc-def_ghi.jkl+mno/pq"},
			{"unicode", "ééééééééééé"},
			{"sql", "' OR '1'='1' --xxxxxxxxx"},
			{"nul", strings.Repeat("\x00", store.IDLen)},
		}
		for _, tc := range ids {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				assertNotFound(t, m, tc.id, t0)
				if err := m.Touch(ctx, tc.id, t0, time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Touch = %v, want ErrNotFound", err)
				}
				r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("new"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
				if err := m.Rotate(ctx, tc.id, r, t0); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Rotate = %v, want ErrNotFound", err)
				}
			})
		}
		mustGet(t, m, real, t0)
		if n := before.changes(m); n != 0 {
			t.Errorf("calls on absent ids made %d changes, want 0", n)
		}
	})

	t.Run("nil session", func(t *testing.T) {
		m := New()
		err := m.Create(context.Background(), nil, 0)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Fatalf("Create(nil) = %v, want a backend error", err)
		}
	})
}

func TestDeepCopy(t *testing.T) {
	newClaimed := func() *store.Session {
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("spent")}
		s.Claims = map[string]any{
			"nested": map[string]any{"k": "v"},
			"list":   []any{"a", map[string]any{"x": 1.0}},
		}
		return s
	}
	// corrupt mutates every mutable part of s.
	corrupt := func(s *store.Session) {
		s.SecretHash[0] ^= 0xff
		s.RefreshHash[0] ^= 0xff
		s.Spent[0][0] ^= 0xff
		s.Spent = append(s.Spent, hash("extra"))
		s.Claims["nested"].(map[string]any)["k"] = "changed"
		s.Claims["list"].([]any)[0] = "changed"
		s.Claims["list"].([]any)[1].(map[string]any)["x"] = 2.0
		s.Claims["added"] = true
		s.Device.Label = "changed"
		s.ExpiresAt = s.ExpiresAt.Add(time.Hour)
	}
	want := func(id string) *store.Session {
		w := newClaimed()
		w.ID = id
		return w
	}

	t.Run("input mutated after Create", func(t *testing.T) {
		m := New()
		s := newClaimed()
		id := mustCreate(t, m, s, 0)
		corrupt(s)
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("Get result mutated", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		corrupt(mustGet(t, m, id, t0))
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("List result mutated", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		l := mustList(t, m, "alice", t0)
		corrupt(&l[0])
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("Rotation mutated after Rotate", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("r2"), SecretHash: hash("s2"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
		if err := m.Rotate(context.Background(), id, r, t0); err != nil {
			t.Fatal(err)
		}
		r.Old[0] ^= 0xff
		r.RefreshHash[0] ^= 0xff
		r.SecretHash[0] ^= 0xff
		got := mustGet(t, m, id, t0)
		if !bytes.Equal(got.RefreshHash, hash("r2")) || !bytes.Equal(got.SecretHash, hash("s2")) || !bytes.Equal(got.Spent[0], hash("refresh")) {
			t.Fatalf("caller's Rotation slices leaked into the store: %x %x %x", got.RefreshHash, got.SecretHash, got.Spent[0])
		}
	})
	t.Run("versions do not share spent hashes", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		before := mustGet(t, m, id, t0)
		r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("r2"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
		if err := m.Rotate(context.Background(), id, r, t0); err != nil {
			t.Fatal(err)
		}
		after := mustGet(t, m, id, t0)
		after.Spent[1][0] ^= 0xff
		if !bytes.Equal(mustGet(t, m, id, t0).Spent[1], before.Spent[0]) {
			t.Fatal("mutating a returned spent hash changed the stored one")
		}
	})
}

func TestExpiry(t *testing.T) {
	idle := newSession("alice", t0) // idles out at t0+1h, expires at t0+24h
	absolute := newSession("alice", t0)
	absolute.IdleUntil = t0.Add(48 * time.Hour) // only ExpiresAt (t0+24h) bounds it

	cases := []struct {
		name string
		s    *store.Session
		now  time.Time
		live bool
	}{
		{"idle: at creation", idle, t0, true},
		{"idle: 1ns before IdleUntil", idle, t0.Add(time.Hour - time.Nanosecond), true},
		{"idle: at IdleUntil", idle, t0.Add(time.Hour), false},
		{"idle: long after", idle, t0.Add(100 * 24 * time.Hour), false},
		{"absolute: 1ns before ExpiresAt", absolute, t0.Add(24*time.Hour - time.Nanosecond), true},
		{"absolute: at ExpiresAt", absolute, t0.Add(24 * time.Hour), false},
		{"absolute: after ExpiresAt, before IdleUntil", absolute, t0.Add(30 * time.Hour), false},
	}
	ops := []struct {
		name string
		do   func(m *Store, id string, now time.Time) error
	}{
		{"Get", func(m *Store, id string, now time.Time) error {
			_, err := m.Get(context.Background(), id, now)
			return err
		}},
		{"Touch", func(m *Store, id string, now time.Time) error {
			return m.Touch(context.Background(), id, now, time.Hour, 0)
		}},
		{"Rotate", func(m *Store, id string, now time.Time) error {
			r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("new"), IdleUntil: now.Add(time.Hour), KeepSpent: 1}
			return m.Rotate(context.Background(), id, r, now)
		}},
		{"List", func(m *Store, id string, now time.Time) error {
			l, err := m.List(context.Background(), "alice", now)
			if err != nil || len(l) == 0 {
				return errors.Join(err, store.ErrNotFound)
			}
			if l[0].ID != id {
				return fmt.Errorf("List returned %s, want %s", l[0].ID, id)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				m := New()
				s := *tc.s
				id := mustCreate(t, m, &s, 0)
				before := snap(m)
				err := op.do(m, id, tc.now)
				switch {
				case tc.live && err != nil:
					t.Fatalf("%s on a live session = %v, want nil", op.name, err)
				case !tc.live && !errors.Is(err, store.ErrNotFound):
					t.Fatalf("%s on a dead session = %v, want ErrNotFound", op.name, err)
				case !tc.live && before.changes(m) != 0:
					t.Fatalf("%s on a dead session wrote", op.name)
				}
			})
		}
	}

	t.Run("reads never delete", func(t *testing.T) {
		// A later now makes the session read as absent, but an earlier
		// now still sees it: ErrNotFound is decided by the caller's now.
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		assertNotFound(t, m, id, t0.Add(2*time.Hour))
		mustList(t, m, "alice", t0.Add(2*time.Hour))
		mustGet(t, m, id, t0)
	})
}

func TestTouch(t *testing.T) {
	ctx := context.Background()
	const idle, every = time.Hour, time.Minute
	cases := []struct {
		name        string
		setup       func(s *store.Session)
		now         time.Time
		every       time.Duration
		wrote       bool
		wantLast    time.Time
		wantIdle    time.Time
		wantErr     error
		stillLiveAt time.Time // zero: not checked
	}{
		{
			name: "inside the interval writes nothing", now: t0.Add(30 * time.Second), every: every,
			wantLast: t0, wantIdle: t0.Add(time.Hour),
		},
		{
			name: "just inside the interval writes nothing", now: t0.Add(every - time.Nanosecond), every: every,
			wantLast: t0, wantIdle: t0.Add(time.Hour),
		},
		{
			name: "at the interval writes", now: t0.Add(every), every: every, wrote: true,
			wantLast: t0.Add(every), wantIdle: t0.Add(every + idle),
		},
		{
			name: "after the interval slides IdleUntil", now: t0.Add(50 * time.Minute), every: every, wrote: true,
			wantLast: t0.Add(50 * time.Minute), wantIdle: t0.Add(110 * time.Minute),
			stillLiveAt: t0.Add(100 * time.Minute),
		},
		{
			name: "every zero always writes", now: t0.Add(time.Second), every: 0, wrote: true,
			wantLast: t0.Add(time.Second), wantIdle: t0.Add(time.Second + idle),
		},
		{
			name:  "capped at ExpiresAt",
			setup: func(s *store.Session) { s.IdleUntil = t0.Add(23*time.Hour + 45*time.Minute) },
			now:   t0.Add(23*time.Hour + 30*time.Minute), every: every, wrote: true,
			wantLast: t0.Add(23*time.Hour + 30*time.Minute), wantIdle: t0.Add(24 * time.Hour),
		},
		{
			name: "idle-expired is not found", now: t0.Add(time.Hour), every: every, wantErr: store.ErrNotFound,
		},
		{
			name:  "absolutely expired is not found",
			setup: func(s *store.Session) { s.IdleUntil = t0.Add(48 * time.Hour) },
			now:   t0.Add(24 * time.Hour), every: every, wantErr: store.ErrNotFound,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			if tc.setup != nil {
				tc.setup(s)
			}
			before := *s
			id := mustCreate(t, m, s, 0)
			before.ID = id
			stored := snap(m)

			err := m.Touch(ctx, id, tc.now, idle, tc.every)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("Touch = %v, want %v", err, tc.wantErr)
			}
			if d := stored.changes(m); (d == 1) != tc.wrote || d > 1 {
				t.Fatalf("Touch made %d changes, want wrote=%v", d, tc.wrote)
			}
			if tc.wantErr != nil {
				return
			}
			got := mustGet(t, m, id, tc.now)
			if !got.LastUsedAt.Equal(tc.wantLast) || !got.IdleUntil.Equal(tc.wantIdle) {
				t.Fatalf("LastUsedAt, IdleUntil = %v, %v; want %v, %v", got.LastUsedAt, got.IdleUntil, tc.wantLast, tc.wantIdle)
			}
			// Nothing else changes.
			want := before
			want.LastUsedAt, want.IdleUntil = got.LastUsedAt, got.IdleUntil
			sameSession(t, got, &want)
			if !tc.stillLiveAt.IsZero() {
				mustGet(t, m, id, tc.stillLiveAt)
			}
		})
	}

	t.Run("unused session dies where a touched one lives", func(t *testing.T) {
		m := New()
		touched := mustCreate(t, m, newSession("alice", t0), 0)
		untouched := mustCreate(t, m, newSession("alice", t0), 0)
		for i := 1; i <= 10; i++ { // a use every 30 minutes for 5 hours
			if err := m.Touch(ctx, touched, t0.Add(time.Duration(i)*30*time.Minute), idle, every); err != nil {
				t.Fatalf("Touch %d: %v", i, err)
			}
		}
		mustGet(t, m, touched, t0.Add(5*time.Hour+59*time.Minute))
		assertNotFound(t, m, untouched, t0.Add(5*time.Hour))
	})

	t.Run("throttled touches do not extend", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		for i := 1; i < 60; i++ { // a use every second, for a minute
			if err := m.Touch(ctx, id, t0.Add(time.Duration(i)*time.Second), idle, every); err != nil {
				t.Fatal(err)
			}
		}
		if n := before.changes(m); n != 0 {
			t.Fatalf("%d changes inside one interval, want 0", n)
		}
		if got := mustGet(t, m, id, t0); !got.IdleUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("IdleUntil = %v, want unchanged", got.IdleUntil)
		}
	})
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(10 * time.Minute)
	good := func() store.Rotation {
		return store.Rotation{
			Old:             hash("refresh"),
			RefreshHash:     hash("refresh 2"),
			SecretHash:      hash("secret 2"),
			AccessExpiresAt: now.Add(15 * time.Minute),
			IdleUntil:       now.Add(time.Hour),
			KeepSpent:       5,
		}
	}

	t.Run("applies", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		want := *s
		id := mustCreate(t, m, s, 0)
		before := snap(m)
		if err := m.Rotate(ctx, id, good(), now); err != nil {
			t.Fatalf("Rotate = %v", err)
		}
		want.ID = id
		want.RefreshHash = hash("refresh 2")
		want.SecretHash = hash("secret 2")
		want.AccessExpiresAt = now.Add(15 * time.Minute)
		want.IdleUntil = now.Add(time.Hour)
		want.FreshUntil = time.Time{}
		want.LastUsedAt = now
		want.Spent = [][]byte{hash("refresh")}
		sameSession(t, mustGet(t, m, id, now), &want)
		if n := before.changes(m); n != 1 {
			t.Errorf("Rotate made %d changes, want 1", n)
		}
	})

	t.Run("nil SecretHash stays nil", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.SecretHash = nil
		id := mustCreate(t, m, s, 0)
		r := good()
		r.SecretHash, r.AccessExpiresAt = nil, time.Time{}
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); got.SecretHash != nil || !got.AccessExpiresAt.IsZero() {
			t.Fatalf("SecretHash, AccessExpiresAt = %x, %v; want nil, zero", got.SecretHash, got.AccessExpiresAt)
		}
	})

	t.Run("IdleUntil capped at ExpiresAt", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		r := good()
		r.IdleUntil = t0.Add(48 * time.Hour)
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); !got.IdleUntil.Equal(t0.Add(24 * time.Hour)) {
			t.Fatalf("IdleUntil = %v, want ExpiresAt %v", got.IdleUntil, t0.Add(24*time.Hour))
		}
	})

	t.Run("FreshUntil replaced", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		r := good()
		r.FreshUntil = now.Add(time.Minute)
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); !got.FreshUntil.Equal(now.Add(time.Minute)) {
			t.Fatalf("FreshUntil = %v, want %v", got.FreshUntil, now.Add(time.Minute))
		}
	})

	refused := []struct {
		name string
		old  []byte
		now  time.Time
		want error
	}{
		{"wrong old hash", hash("other"), now, store.ErrConflict},
		{"nil old hash", nil, now, store.ErrConflict},
		{"truncated old hash", hash("refresh")[:31], now, store.ErrConflict},
		{"idle-expired, right hash", hash("refresh"), t0.Add(time.Hour), store.ErrNotFound},
		{"idle-expired, wrong hash", hash("other"), t0.Add(time.Hour), store.ErrNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			want := *s
			id := mustCreate(t, m, s, 0)
			want.ID = id
			before := snap(m)
			r := good()
			r.Old = tc.old
			if err := m.Rotate(ctx, id, r, tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("Rotate = %v, want %v", err, tc.want)
			}
			if n := before.changes(m); n != 0 {
				t.Errorf("a refused Rotate made %d changes", n)
			}
			sameSession(t, mustGet(t, m, id, t0), &want)
		})
	}

	t.Run("a spent hash conflicts", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		if err := m.Rotate(ctx, id, good(), now); err != nil {
			t.Fatal(err)
		}
		if err := m.Rotate(ctx, id, good(), now); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second Rotate from the same Old = %v, want ErrConflict", err)
		}
	})

	t.Run("spent bounded, newest first", func(t *testing.T) {
		for _, tc := range []struct {
			keep int
			want []string // after rotating h0 -> h1 -> ... -> h5
		}{
			{-1, nil},
			{0, nil},
			{1, []string{"h4"}},
			{3, []string{"h4", "h3", "h2"}},
			{5, []string{"h4", "h3", "h2", "h1", "h0"}},
			{100, []string{"h4", "h3", "h2", "h1", "h0"}},
		} {
			t.Run(fmt.Sprintf("keep %d", tc.keep), func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				s.RefreshHash = hash("h0")
				id := mustCreate(t, m, s, 0)
				for i := range 5 {
					r := store.Rotation{
						Old:         hash(fmt.Sprintf("h%d", i)),
						RefreshHash: hash(fmt.Sprintf("h%d", i+1)),
						IdleUntil:   now.Add(time.Hour),
						KeepSpent:   tc.keep,
					}
					if err := m.Rotate(ctx, id, r, now); err != nil {
						t.Fatalf("rotation %d: %v", i, err)
					}
				}
				got := mustGet(t, m, id, now)
				if len(got.Spent) != len(tc.want) {
					t.Fatalf("Spent has %d hashes, want %d", len(got.Spent), len(tc.want))
				}
				for i, w := range tc.want {
					if !bytes.Equal(got.Spent[i], hash(w)) {
						t.Errorf("Spent[%d] = %x, want hash of %s", i, got.Spent[i], w)
					}
				}
				if !bytes.Equal(got.RefreshHash, hash("h5")) {
					t.Errorf("RefreshHash is not h5")
				}
			})
		}
	})

	t.Run("KeepSpent shortens a longer Spent", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("a"), hash("b"), hash("c"), hash("d")}
		id := mustCreate(t, m, s, 0)
		r := good()
		r.KeepSpent = 2
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, m, id, now).Spent
		if len(got) != 2 || !bytes.Equal(got[0], hash("refresh")) || !bytes.Equal(got[1], hash("a")) {
			t.Fatalf("Spent = %x, want [refresh a]", got)
		}
	})
}

func TestRotateConcurrent(t *testing.T) {
	const callers = 64
	ctx := context.Background()
	for round := range 10 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			m := New()
			id := mustCreate(t, m, newSession("alice", t0), 0)
			now := t0.Add(time.Minute)
			errs := make([]error, callers)
			var start, done sync.WaitGroup
			start.Add(1)
			for i := range callers {
				done.Go(func() {
					start.Wait()
					r := store.Rotation{
						Old:         hash("refresh"),
						RefreshHash: hash(fmt.Sprintf("winner %d", i)),
						IdleUntil:   now.Add(time.Hour),
						KeepSpent:   5,
					}
					errs[i] = m.Rotate(ctx, id, r, now)
				})
			}
			start.Done()
			done.Wait()

			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("callers %d and %d both won", winner, i)
					}
					winner = i
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("caller %d: %v, want nil or ErrConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no caller won")
			}
			got := mustGet(t, m, id, now)
			if !bytes.Equal(got.RefreshHash, hash(fmt.Sprintf("winner %d", winner))) {
				t.Fatal("stored RefreshHash is not the winner's")
			}
			// A second rotation applied would have prepended a second
			// spent hash.
			if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], hash("refresh")) {
				t.Fatalf("Spent = %x, want just the old hash", got.Spent)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		subject string
		id      func(alice, bob string) string
		gone    string // "alice", "bob" or ""
	}{
		{"own session", "alice", func(a, b string) string { return a }, "alice"},
		{"another subject's session", "bob", func(a, b string) string { return a }, ""},
		{"subject differs by case", "Alice", func(a, b string) string { return a }, ""},
		{"subject is a prefix", "alic", func(a, b string) string { return a }, ""},
		{"empty subject", "", func(a, b string) string { return a }, ""},
		{"absent id", "alice", func(a, b string) string { return store.NewID() }, ""},
		{"malformed id", "alice", func(a, b string) string { return "not an id" }, ""},
		{"empty id", "alice", func(a, b string) string { return "" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			alice := mustCreate(t, m, newSession("alice", t0), 0)
			alice2 := mustCreate(t, m, newSession("alice", t0), 0)
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			before := snap(m)
			id := tc.id(alice, bob)
			for i := range 2 { // idempotent
				if err := m.Revoke(ctx, tc.subject, id); err != nil {
					t.Fatalf("Revoke #%d = %v, want nil", i+1, err)
				}
			}
			if tc.gone == "alice" {
				assertNotFound(t, m, alice, t0)
			} else {
				mustGet(t, m, alice, t0)
			}
			mustGet(t, m, alice2, t0)
			mustGet(t, m, bob, t0)
			want := 0
			if tc.gone != "" {
				want = 1
			}
			if n := before.changes(m); n != want {
				t.Errorf("two Revokes made %d changes, want %d", n, want)
			}
			checkIndex(t, m)
		})
	}

	t.Run("dead session of the subject", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		if err := m.Revoke(ctx, "alice", id); err != nil {
			t.Fatal(err)
		}
		if n := stored(m, "alice"); n != 0 {
			t.Fatalf("%d sessions left in memory, want 0", n)
		}
		checkIndex(t, m)
	})
}

func TestRevokeSubject(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		keep      func(alice []string, bob string) string
		wantCount int
		wantLeft  func(alice []string) []string
	}{
		{"keep none", func(a []string, b string) string { return "" }, 5, func(a []string) []string { return nil }},
		{"keep one", func(a []string, b string) string { return a[2] }, 4, func(a []string) []string { return a[2:3] }},
		{"keep another subject's id", func(a []string, b string) string { return b }, 5, func(a []string) []string { return nil }},
		{"keep an absent id", func(a []string, b string) string { return store.NewID() }, 5, func(a []string) []string { return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New(WithClock(func() time.Time { return t0 }))
			var alice []string
			for i := range 5 {
				alice = append(alice, mustCreate(t, m, newSession("alice", t0.Add(-time.Duration(i)*time.Second)), 0))
			}
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			bob2 := mustCreate(t, m, newSession("bob", t0), 0)
			other := mustCreate(t, m, newSession("alice2", t0), 0)

			n, err := m.RevokeSubject(ctx, "alice", tc.keep(alice, bob))
			if err != nil || n != tc.wantCount {
				t.Fatalf("RevokeSubject = %d, %v; want %d, nil", n, err, tc.wantCount)
			}
			var left []string
			for _, s := range mustList(t, m, "alice", t0) {
				left = append(left, s.ID)
			}
			if want := tc.wantLeft(alice); !slices.Equal(left, want) {
				t.Fatalf("alice has %v left, want %v", left, want)
			}
			for _, id := range []string{bob, bob2, other} {
				mustGet(t, m, id, t0)
			}
			// Idempotent: nothing more to delete.
			if n, err := m.RevokeSubject(ctx, "alice", tc.keep(alice, bob)); err != nil || n != 0 {
				t.Fatalf("second RevokeSubject = %d, %v; want 0, nil", n, err)
			}
			checkIndex(t, m)
		})
	}

	t.Run("counts only live sessions", func(t *testing.T) {
		m := New(WithClock(func() time.Time { return t0.Add(50 * time.Minute) }))
		for i := range 5 {
			// Idle until t0+20m, t0+40m, ... t0+100m: the first two have
			// idled out by t0+50m.
			s := newSession("alice", t0)
			s.IdleUntil = t0.Add(time.Duration(i+1) * 20 * time.Minute)
			mustCreate(t, m, s, 0)
		}
		if n := stored(m, "alice"); n != 5 {
			t.Fatalf("%d sessions in memory before RevokeSubject, want 5", n)
		}
		n, err := m.RevokeSubject(ctx, "alice", "")
		if err != nil || n != 3 {
			t.Fatalf("RevokeSubject = %d, %v; want 3, nil", n, err)
		}
		if left := stored(m, "alice"); left != 0 {
			t.Fatalf("%d sessions left in memory, want 0", left)
		}
	})

	t.Run("unknown subject", func(t *testing.T) {
		m := New()
		mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		if n, err := m.RevokeSubject(ctx, "nobody", ""); err != nil || n != 0 {
			t.Fatalf("RevokeSubject = %d, %v; want 0, nil", n, err)
		}
		if before.changes(m) != 0 {
			t.Fatal("RevokeSubject of nobody wrote")
		}
	})
}

func TestList(t *testing.T) {
	ctx := context.Background()

	t.Run("1000 sessions newest first, ties by id", func(t *testing.T) {
		m := New()
		type key struct {
			created time.Time
			id      string
		}
		var want []key
		for i := range 1000 {
			created := t0.Add(time.Duration(i%37) * time.Second) // many ties
			id := mustCreate(t, m, newSession("alice", created), 0)
			want = append(want, key{created, id})
		}
		mustCreate(t, m, newSession("bob", t0), 0)
		slices.SortFunc(want, func(a, b key) int {
			if c := b.created.Compare(a.created); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		got := mustList(t, m, "alice", t0.Add(time.Minute))
		if len(got) != len(want) {
			t.Fatalf("List returned %d sessions, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].id || !got[i].CreatedAt.Equal(want[i].created) {
				t.Fatalf("List[%d] = %s at %v, want %s at %v", i, got[i].ID, got[i].CreatedAt, want[i].id, want[i].created)
			}
		}
	})

	t.Run("only live sessions", func(t *testing.T) {
		m := New()
		dead := newSession("alice", t0)
		dead.IdleUntil = t0.Add(time.Minute)
		mustCreate(t, m, dead, 0)
		expired := newSession("alice", t0)
		expired.IdleUntil, expired.ExpiresAt = t0.Add(48*time.Hour), t0.Add(time.Minute)
		mustCreate(t, m, expired, 0)
		live := mustCreate(t, m, newSession("alice", t0), 0)
		got := mustList(t, m, "alice", t0.Add(time.Minute))
		if len(got) != 1 || got[0].ID != live {
			t.Fatalf("List = %d sessions, want only %s", len(got), live)
		}
	})

	t.Run("only the subject's", func(t *testing.T) {
		m := New()
		subjects := []string{"alice", "Alice", "alice ", " alice", "alic", "alice2", ""}
		ids := map[string]string{}
		for _, s := range subjects {
			ids[s] = mustCreate(t, m, newSession(s, t0), 0)
		}
		for _, s := range subjects {
			got := mustList(t, m, s, t0)
			if len(got) != 1 || got[0].ID != ids[s] || got[0].Subject != s {
				t.Errorf("List(%q) = %+v, want just %s", s, got, ids[s])
			}
		}
	})

	t.Run("empty is a non-nil empty slice", func(t *testing.T) {
		m := New()
		mustCreate(t, m, newSession("alice", t0), 0)
		for _, tc := range []struct {
			name, subject string
			now           time.Time
		}{{"unknown subject", "bob", t0}, {"all dead", "alice", t0.Add(time.Hour)}} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := m.List(ctx, tc.subject, tc.now)
				if err != nil || got == nil || len(got) != 0 {
					t.Fatalf("List = %#v, %v; want empty non-nil, nil", got, err)
				}
			})
		}
	})
}

func TestCreateMax(t *testing.T) {
	type sess struct {
		label   string
		created time.Duration // after t0
		dead    bool          // idled out before the new session's creation
	}
	cases := []struct {
		name     string
		existing []sess
		new      sess
		max      int
		want     []string // labels the subject holds afterwards, newest first
	}{
		{
			name:     "no cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 0,
			want: []string{"d", "c", "b", "a"},
		},
		{
			name:     "negative is no cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: -1,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "below the cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: 5,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "reaching the cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: 3,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "over the cap evicts the oldest",
			existing: []sess{{"b", 1, false}, {"a", 0, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 3,
			want: []string{"d", "c", "b"},
		},
		{
			name:     "max 1 keeps only the new one",
			existing: []sess{{"a", 0, false}, {"b", 1, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 1,
			want: []string{"d"},
		},
		{
			name:     "dead sessions are dropped and not counted",
			existing: []sess{{"a", 0, false}, {"dead", 1, true}, {"b", 2, false}},
			new:      sess{"c", 3, false}, max: 3,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "dead sessions are dropped without a cap",
			existing: []sess{{"dead1", 0, true}, {"a", 1, false}, {"dead2", 2, true}},
			new:      sess{"b", 3, false}, max: 0,
			want: []string{"b", "a"},
		},
		{
			name:     "a new session older than max others is kept; the oldest other goes",
			existing: []sess{{"a", 5, false}, {"b", 6, false}},
			new:      sess{"old", 0, false}, max: 2,
			want: []string{"b", "old"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			newAt := t0.Add(time.Hour + tc.new.created*time.Second)
			mk := func(x sess) *store.Session {
				s := newSession("alice", t0.Add(time.Hour+x.created*time.Second))
				s.Device.Label = x.label
				if x.dead {
					s.IdleUntil = newAt
				}
				return s
			}
			for _, x := range tc.existing {
				mustCreate(t, m, mk(x), 0)
			}
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			mustCreate(t, m, mk(tc.new), tc.max)

			var got []string
			for _, s := range mustList(t, m, "alice", newAt.Add(-time.Nanosecond)) { // dead ones still live here
				got = append(got, s.Device.Label)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("alice holds %v, want %v", got, tc.want)
			}
			if n := stored(m, "alice"); n != len(tc.want) {
				t.Fatalf("%d alice sessions in memory, want %d", n, len(tc.want))
			}
			mustGet(t, m, bob, t0)
			checkIndex(t, m)
		})
	}

	t.Run("ties evict the greatest id first", func(t *testing.T) {
		m := New()
		var ids []string
		for range 4 {
			ids = append(ids, mustCreate(t, m, newSession("alice", t0), 0))
		}
		newest := mustCreate(t, m, newSession("alice", t0.Add(time.Second)), 3)
		slices.Sort(ids)
		want := []string{newest, ids[0], ids[1]}
		var got []string
		for _, s := range mustList(t, m, "alice", t0) {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("kept %v, want %v", got, want)
		}
	})
}

func TestCreateMaxConcurrent(t *testing.T) {
	const creators, max = 32, 5
	for _, tc := range []struct {
		name string
		at   func(i int) time.Time
	}{
		{"distinct CreatedAt", func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }},
		{"equal CreatedAt", func(i int) time.Time { return t0 }},
	} {
		for round := range 5 {
			t.Run(fmt.Sprintf("%s/round %d", tc.name, round), func(t *testing.T) {
				m := New()
				bob := mustCreate(t, m, newSession("bob", t0), 0)
				ids := make([]string, creators)
				var start, done sync.WaitGroup
				start.Add(1)
				for i := range creators {
					done.Go(func() {
						start.Wait()
						s := newSession("alice", tc.at(i))
						if err := m.Create(context.Background(), s, max); err != nil {
							t.Errorf("Create %d: %v", i, err)
						}
						ids[i] = s.ID
					})
				}
				start.Done()
				done.Wait()

				// Exactly max survive, all of them alice's; which ones
				// depends on the order the Creates ran in.
				mine := map[string]bool{}
				for _, id := range ids {
					mine[id] = true
				}
				list := mustList(t, m, "alice", t0)
				if len(list) != max {
					t.Fatalf("alice holds %d sessions, want %d", len(list), max)
				}
				for _, s := range list {
					if !mine[s.ID] {
						t.Fatalf("survivor %s was not created by this test", s.ID)
					}
				}
				if n := stored(m, "alice"); n != max {
					t.Fatalf("%d alice sessions in memory, want %d", n, max)
				}
				mustGet(t, m, bob, t0)
				checkIndex(t, m)
			})
		}
	}
}

func TestContextDone(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()

	ops := []struct {
		name string
		do   func(ctx context.Context, m *Store, id string) error
	}{
		{"Create", func(ctx context.Context, m *Store, id string) error {
			s := newSession("alice", t0)
			err := m.Create(ctx, s, 1)
			if s.ID != "" {
				return fmt.Errorf("failed Create assigned id %s (err %v)", s.ID, err)
			}
			return err
		}},
		{"Get", func(ctx context.Context, m *Store, id string) error {
			s, err := m.Get(ctx, id, t0)
			if s != nil {
				return errors.New("Get returned a session with its error")
			}
			return err
		}},
		{"Touch", func(ctx context.Context, m *Store, id string) error {
			return m.Touch(ctx, id, t0.Add(time.Minute), time.Hour, 0)
		}},
		{"Rotate", func(ctx context.Context, m *Store, id string) error {
			return m.Rotate(ctx, id, store.Rotation{Old: hash("refresh"), RefreshHash: hash("x"), IdleUntil: t0.Add(time.Hour)}, t0)
		}},
		{"Revoke", func(ctx context.Context, m *Store, id string) error { return m.Revoke(ctx, "alice", id) }},
		{"RevokeSubject", func(ctx context.Context, m *Store, id string) error {
			_, err := m.RevokeSubject(ctx, "alice", "")
			return err
		}},
		{"List", func(ctx context.Context, m *Store, id string) error {
			l, err := m.List(ctx, "alice", t0)
			if l != nil {
				return errors.New("List returned sessions with its error")
			}
			return err
		}},
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"canceled", canceled, context.Canceled}, {"deadline exceeded", expired, context.DeadlineExceeded}} {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				want := *s
				id := mustCreate(t, m, s, 0)
				want.ID = id
				before := snap(m)
				err := op.do(c.ctx, m, id)
				if !errors.Is(err, c.want) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
					t.Fatalf("%s = %v, want an error wrapping %v", op.name, err, c.want)
				}
				if n := before.changes(m); n != 0 {
					t.Errorf("%d changes: a done ctx changed state", n)
				}
				if n := stored(m, "alice"); n != 1 {
					t.Errorf("alice has %d sessions, want 1", n)
				}
				sameSession(t, mustGet(t, m, id, t0), &want)
			})
		}
	}
}

func TestHostileStrings(t *testing.T) {
	hostile := []struct{ name, s string }{
		{"unicode", "ユーザー・Ünïcødé"},
		{"emoji", "🔐👩‍💻"},
		{"double quotes", `"quoted" ""`},
		{"single quotes", `O'Brien''`},
		{"sql injection", `'; DROP TABLE sessions; --`},
		{"sql wildcard", `%_\%`},
		{"json", `{"sub":"admin","x":[1,2]}`},
		{"json escape", `\u0000\"\\`},
		{"control characters", "tab\tnewline\ncr\r\x01\x7f"},
		{"format verbs", "%s %d %v %!"},
		{"url", "a/b?c=d&e#f"},
		{"1 KiB ascii", strings.Repeat("x", store.MaxSubjectLen)},
		{"1 KiB two-byte", strings.Repeat("é", store.MaxSubjectLen/2)},
		{"1 KiB four-byte", strings.Repeat("🔐", store.MaxSubjectLen/4)},
		{"empty", ""},
	}
	m := New()
	ids := map[string]string{}
	for _, h := range hostile {
		s := newSession(h.s, t0)
		s.Device = store.Device{Label: h.s, UserAgent: h.s, IP: h.s}
		ids[h.name] = mustCreate(t, m, s, 1)
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			got := mustGet(t, m, ids[h.name], t0)
			if got.Subject != h.s || got.Device != (store.Device{Label: h.s, UserAgent: h.s, IP: h.s}) {
				t.Fatalf("came back as %q %+v", got.Subject, got.Device)
			}
			l := mustList(t, m, h.s, t0)
			if len(l) != 1 || l[0].ID != ids[h.name] {
				t.Fatalf("List = %d sessions, want just its own", len(l))
			}
		})
	}
	t.Run("revocation stays scoped", func(t *testing.T) {
		for i, h := range hostile {
			if err := m.Revoke(context.Background(), h.s, ids[hostile[(i+1)%len(hostile)].name]); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range hostile {
			mustGet(t, m, ids[h.name], t0)
		}
		if n, err := m.RevokeSubject(context.Background(), hostile[4].s, ""); err != nil || n != 1 {
			t.Fatalf("RevokeSubject = %d, %v; want 1, nil", n, err)
		}
		for i, h := range hostile {
			if i == 4 {
				assertNotFound(t, m, ids[h.name], t0)
			} else {
				mustGet(t, m, ids[h.name], t0)
			}
		}
		checkIndex(t, m)
	})
}

type point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

func TestClaims(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		want   map[string]any
	}{
		{"nil", nil, nil},
		{"empty", map[string]any{}, map[string]any{}},
		{"int becomes float64", map[string]any{"n": 42, "i64": int64(-7), "u8": uint8(255)}, map[string]any{"n": 42.0, "i64": -7.0, "u8": 255.0}},
		{"float, bool, string, null", map[string]any{"f": 1.5, "b": true, "s": "x", "z": nil}, map[string]any{"f": 1.5, "b": true, "s": "x", "z": nil}},
		{
			"nested maps",
			map[string]any{"org": map[string]any{"id": 7, "roles": map[string]int{"admin": 1}}},
			map[string]any{"org": map[string]any{"id": 7.0, "roles": map[string]any{"admin": 1.0}}},
		},
		{"slices", map[string]any{"scopes": []string{"read", "write"}, "mixed": []any{1, "a", nil}}, map[string]any{"scopes": []any{"read", "write"}, "mixed": []any{1.0, "a", nil}}},
		{"struct", map[string]any{"p": point{1, 2}}, map[string]any{"p": map[string]any{"x": 1.0, "y": 2.0}}},
		{"bytes become base64", map[string]any{"b": []byte{0xff, 0x00}}, map[string]any{"b": "/wA="}},
		{"time becomes a string", map[string]any{"t": t0}, map[string]any{"t": "2030-01-01T00:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			s.Claims = tc.claims
			id := mustCreate(t, m, s, 0)
			got := mustGet(t, m, id, t0).Claims
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Claims = %#v, want %#v", got, tc.want)
			}
			if l := mustList(t, m, "alice", t0); !reflect.DeepEqual(l[0].Claims, tc.want) {
				t.Fatalf("List Claims = %#v, want %#v", l[0].Claims, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		claims map[string]any
	}{
		{"channel", map[string]any{"c": make(chan int)}},
		{"func", map[string]any{"f": func() {}}},
		{"NaN", map[string]any{"n": math.NaN()}},
		{"nested infinity", map[string]any{"a": map[string]any{"b": math.Inf(1)}}},
	} {
		t.Run("unencodable "+tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			s.Claims = tc.claims
			err := m.Create(context.Background(), s, 0)
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("Create = %v, want a backend error", err)
			}
			if s.ID != "" || stored(m, "alice") != 0 || (snapshot{}).changes(m) != 0 {
				t.Fatalf("failed Create stored something (id %q)", s.ID)
			}
		})
	}
}

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
