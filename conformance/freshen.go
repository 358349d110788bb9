package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var freshenRules = []rule{
	{"freshen-sets-fresh-until-only", plain, freshenSets},
	{"freshen-absent-is-not-found", plain, freshenAbsent},
}

// freshenSets: step-up sets FreshUntil to the instant given, later or
// earlier, and changes no other field; it is not a use of the session.
func freshenSets(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	s.IdleTimeout = 30 * time.Minute
	s.Actor = &store.Actor{Subject: "support:bob", SessionID: store.NewID()}
	id := h.create(t, s, 0)
	other := newSession("alice", start)
	h.create(t, other, 0)
	at := h.clock.Advance(time.Minute)
	r := rotation(s.RefreshHash, at, 5)
	if err := h.s.Rotate(h.ctx, id, r, at); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	want := h.get(t, id, at)

	for _, until := range []time.Duration{10 * time.Minute, 2 * time.Minute} {
		at := h.clock.Advance(time.Minute)
		want.FreshUntil = at.Add(until)
		if err := h.s.Freshen(h.ctx, id, want.FreshUntil, at); err != nil {
			t.Fatalf("Freshen: %v", err)
		}
		sameSession(t, "Get after Freshen until now+"+until.String(), h.get(t, id, at), want)
	}
	o := *other
	sameSession(t, "another session of the subject after Freshen", h.get(t, other.ID, h.clock.Now()), &o)
}

// freshenAbsent: a session that is not live is ErrNotFound, and Freshen
// brings none back: not one never created, revoked, evicted by a cap,
// idled out or expired.
func freshenAbsent(t *testing.T, h *harness) {
	start := h.clock.Now()
	for _, id := range []string{store.NewID(), "", "not an id"} {
		if err := h.s.Freshen(h.ctx, id, start.Add(time.Hour), start); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Freshen(%q) of an absent session = %v, want store.ErrNotFound", id, err)
		}
		h.absent(t, id, start, "after Freshen of an id never created")
	}

	revoked := h.create(t, newSession("alice", start), 0)
	if err := h.s.Revoke(h.ctx, "alice", revoked); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	ended := h.create(t, newSession("bob", start), 0)
	if _, err := h.s.RevokeSubject(h.ctx, "bob", ""); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	evicted := h.create(t, newSession("carol", start), 0)
	h.create(t, newSession("carol", start.Add(time.Second)), 1)
	idle := newSession("dave", start) // idle at start+1h
	idled := h.create(t, idle, 0)
	short := newSession("erin", start)
	short.ExpiresAt = start.Add(30 * time.Minute)
	expired := h.create(t, short, 0)

	for _, c := range []struct {
		what, subject, id string
		at                time.Time
	}{
		{"a revoked session", "alice", revoked, start},
		{"a session ended by RevokeSubject", "bob", ended, start},
		{"a session evicted by a cap", "carol", evicted, start.Add(time.Second)},
		{"a session at its ExpiresAt", "erin", expired, short.ExpiresAt},
		{"a session at its IdleUntil", "dave", idled, idle.IdleUntil},
	} {
		h.clock.Advance(c.at.Sub(h.clock.Now()))
		if err := h.s.Freshen(h.ctx, c.id, c.at.Add(time.Hour), c.at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Freshen of %s = %v, want store.ErrNotFound", c.what, err)
		}
		h.absent(t, c.id, c.at, "after Freshen of "+c.what)
		for _, s := range h.list(t, c.subject, c.at) {
			if s.ID == c.id {
				t.Errorf("List holds %s after Freshen", c.what)
			}
		}
	}
}
