package conformance

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var createRules = []rule{
	{"create-assigns-unique-ids", plain, createAssignsUniqueIDs},
	{"get-round-trips-every-field", plain, getRoundTrips},
	{"get-round-trips-jwt-mode-session", plain, getRoundTripsJWTMode},
	{"get-keeps-times-from-any-location", plain, getKeepsLocations},
	{"get-absent-is-not-found", plain, getAbsent},
	{"get-ids-are-case-sensitive", plain, getCaseSensitive},
	{"get-returns-a-copy", plain, getReturnsCopy},
	{"get-round-trips-idle-timeout", plain, getRoundTripsIdleTimeout},
	{"get-round-trips-actor", plain, getRoundTripsActor},
}

var expiryRules = []rule{
	{"expiry-idle", plain, expiryIdle},
	{"expiry-absolute", plain, expiryAbsolute},
}

func createAssignsUniqueIDs(t *testing.T, h *harness) {
	seen := map[string]bool{}
	for i := range 50 {
		s := newSession("alice", h.clock.Now())
		if i == 0 {
			s.ID = "chosen-by-the-caller"
		}
		id := h.create(t, s, 0)
		if seen[id] {
			t.Fatalf("Create assigned id %s twice", id)
		}
		seen[id] = true
	}
	if got := len(h.list(t, "alice", h.clock.Now())); got != 50 {
		t.Errorf("List after 50 Creates: %d sessions, want 50", got)
	}
}

func getRoundTrips(t *testing.T, h *harness) {
	now := h.clock.Now()
	s := newSession("alice", now)
	s.Device = store.Device{Label: "Alice's phone", UserAgent: "Mozilla/5.0 (iPhone) \"quoted\"", IP: "2001:db8::1"}
	s.Claims = map[string]any{
		"role":   "admin",
		"n":      42.0,
		"pi":     3.25,
		"ok":     true,
		"none":   nil,
		"list":   []any{"a", 1.0, false},
		"nested": map[string]any{"deep": map[string]any{"x": "y"}},
		"empty":  "",
	}
	s.RotatedAt = now.Add(-time.Minute)
	s.Spent = [][]byte{randomHash(), randomHash()}
	want := *s
	want.SecretHash = bytes.Clone(s.SecretHash)
	want.RefreshHash = bytes.Clone(s.RefreshHash)
	want.Spent = [][]byte{bytes.Clone(s.Spent[0]), bytes.Clone(s.Spent[1])}
	want.Claims = map[string]any{}
	for k, v := range s.Claims {
		want.Claims[k] = v
	}
	want.Claims["nested"] = map[string]any{"deep": map[string]any{"x": "y"}}
	id := h.create(t, s, 0)
	want.ID = id

	// The store must not keep the caller's slices or maps.
	s.RefreshHash[0] ^= 0xff
	s.SecretHash[0] ^= 0xff
	s.Spent[0][0] ^= 0xff
	s.Claims["role"] = "changed"
	s.Claims["nested"].(map[string]any)["deep"] = "changed"

	got := h.get(t, id, h.clock.Advance(time.Second))
	sameSession(t, "Get after Create", got, &want)
}

// getRoundTripsJWTMode: in JWT modes a session has no access secret, and a
// fresh login has never rotated.
func getRoundTripsJWTMode(t *testing.T, h *harness) {
	now := h.clock.Now()
	s := newSession("alice", now)
	s.SecretHash = nil
	s.AccessExpiresAt = time.Time{}
	s.FreshUntil = time.Time{}
	s.Claims = nil
	s.Device = store.Device{}
	want := *s
	id := h.create(t, s, 0)
	want.ID = id
	got := h.get(t, id, now)
	sameSession(t, "Get", got, &want)
}

func getKeepsLocations(t *testing.T, h *harness) {
	now := h.clock.Now()
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("IST", 5*3600+1800), time.FixedZone("west", -11*3600)} {
		s := newSession("alice", now.In(loc)) // every time in loc
		want := *s
		id := h.create(t, s, 0)
		want.ID = id
		sameSession(t, "Get of a session written in "+loc.String(), h.get(t, id, now), &want)
	}
}

func getAbsent(t *testing.T, h *harness) {
	now := h.clock.Now()
	h.create(t, newSession("alice", now), 0)
	for _, id := range []string{
		store.NewID(),
		"",
		"short",
		strings.Repeat("!", store.IDLen),
		strings.Repeat("0", store.IDLen) + "0",
		"' OR '1'='1",
		"*",
		"%",
	} {
		h.absent(t, id, now, "an id that was never created")
	}
}

// getCaseSensitive: ids are base62, so two ids may differ only in case.
// A store comparing them case-insensitively (a MySQL default collation,
// say) would hand one device's session to another.
func getCaseSensitive(t *testing.T, h *harness) {
	now := h.clock.Now()
	for range 5 {
		id := h.create(t, newSession("alice", now), 0)
		for _, other := range []string{swapCase(id), strings.ToLower(id), strings.ToUpper(id)} {
			if other != id {
				h.absent(t, other, now, "an id differing from "+id+" only in case")
			}
		}
	}
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

func getReturnsCopy(t *testing.T, h *harness) {
	now := h.clock.Now()
	s := newSession("alice", now)
	want := bytes.Clone(s.RefreshHash)
	id := h.create(t, s, 0)
	got := h.get(t, id, now)
	got.RefreshHash[0] ^= 0xff
	got.Claims["role"] = "admin"
	again := h.get(t, id, now)
	sameBytes(t, "RefreshHash after the caller modified an earlier Get's copy", again.RefreshHash, want)
	if again.Claims["role"] != "reader" {
		t.Errorf("Claims after the caller modified an earlier Get's copy: role = %v, want reader", again.Claims["role"])
	}
}

// roundTrips creates each of sessions (all of subject), then reads every
// one back through Get and List and compares it with what was created.
func roundTrips(t *testing.T, h *harness, subject string, sessions []*store.Session) {
	t.Helper()
	now := h.clock.Now()
	want := map[string]store.Session{}
	for _, s := range sessions {
		w := *s
		w.ID = h.create(t, s, 0)
		want[w.ID] = w
	}
	for id, w := range want {
		sameSession(t, "Get", h.get(t, id, now), &w)
	}
	l := h.list(t, subject, now)
	if len(l) != len(want) {
		t.Fatalf("List after %d Creates: %d sessions", len(want), len(l))
	}
	for _, got := range l {
		w := want[got.ID]
		w.Spent = nil
		sameSession(t, "List", &got, &w)
	}
}

// getRoundTripsIdleTimeout: a login's own idle timeout comes back to the
// millisecond; zero (none) stays zero.
func getRoundTripsIdleTimeout(t *testing.T, h *harness) {
	var sessions []*store.Session
	for _, d := range []time.Duration{0, time.Millisecond, 90*time.Second + 250*time.Millisecond, 20 * time.Minute, 400 * 24 * time.Hour} {
		s := newSession("alice", h.clock.Now())
		s.IdleTimeout = d
		sessions = append(sessions, s)
	}
	roundTrips(t, h, "alice", sessions)
}

// getRoundTripsActor: a delegated session names its actor exactly, and the
// subject's own login has none: nil comes back nil, not an empty Actor.
func getRoundTripsActor(t *testing.T, h *harness) {
	now := h.clock.Now()
	var sessions []*store.Session
	for _, a := range []*store.Actor{
		nil,
		{Subject: "support:bob", SessionID: store.NewID()},
		{Subject: `o'brien "staff" 日本 %_*`, SessionID: store.NewID()},
		{Subject: strings.Repeat("é", store.MaxSubjectLen/2), SessionID: store.NewID()},
		nil,
	} {
		s := newSession("alice", now)
		s.Actor = a
		sessions = append(sessions, s)
	}
	// The store must not keep the caller's Actor.
	mine := sessions[1]
	want := *mine.Actor
	roundTrips(t, h, "alice", sessions)
	mine.Actor.Subject = "changed"
	got := h.get(t, mine.ID, now)
	sameActor(t, "Get after the caller changed the Actor it created with", got.Actor, &want)
	// Nor share what it returns.
	got.Actor.SessionID = "changed"
	sameActor(t, "Get after the caller changed an earlier Get's Actor", h.get(t, mine.ID, now).Actor, &want)
}

func expiryIdle(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start) // idle at start+1h
	id := h.create(t, s, 0)
	keep := h.create(t, newSession("alice", start), 0)
	// keep stays live past alice's idle expiry.
	if err := h.s.Touch(h.ctx, keep, h.clock.Advance(50*time.Minute), time.Hour, 0); err != nil {
		t.Fatalf("Touch: %v", err)
	}

	h.get(t, id, start.Add(time.Hour-time.Millisecond))
	h.get(t, id, start.Add(time.Hour-500*time.Microsecond)) // not yet: now < IdleUntil
	at := h.clock.Advance(10 * time.Minute)                 // start+1h: idle
	h.absent(t, id, at, "at IdleUntil")
	h.absent(t, id, at.Add(500*time.Microsecond), "half a millisecond after IdleUntil")
	checkDead(t, h, id, s.RefreshHash, at)
	if l := h.list(t, "alice", at); len(l) != 1 || l[0].ID != keep {
		t.Errorf("List at IdleUntil = %v, want only %s", ids(l), keep)
	}
}

func expiryAbsolute(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	s.ExpiresAt = start.Add(2 * time.Hour)
	s.IdleUntil = start.Add(3 * time.Hour) // later than ExpiresAt: ExpiresAt wins
	id := h.create(t, s, 0)

	h.get(t, id, h.clock.Advance(2*time.Hour-time.Millisecond))
	at := h.clock.Advance(time.Millisecond)
	h.absent(t, id, at, "at ExpiresAt")
	checkDead(t, h, id, s.RefreshHash, at)
	if l := h.list(t, "alice", at); len(l) != 0 {
		t.Errorf("List at ExpiresAt = %v, want none", ids(l))
	}
}

// checkDead asserts that Touch and Rotate treat a dead session as absent.
func checkDead(t *testing.T, h *harness, id string, refresh []byte, now time.Time) {
	t.Helper()
	if err := h.s.Touch(h.ctx, id, now, time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch of a dead session = %v, want store.ErrNotFound", err)
	}
	r := store.Rotation{Old: refresh, RefreshHash: randomHash(), IdleUntil: now.Add(time.Hour), KeepSpent: 5}
	if err := h.s.Rotate(h.ctx, id, r, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Rotate of a dead session with its current hash = %v, want store.ErrNotFound", err)
	}
	h.absent(t, id, now, "after Touch and Rotate of a dead session")
}
