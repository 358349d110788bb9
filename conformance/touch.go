package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var touchRules = []rule{
	{"touch-slides-idle-expiry", plain, touchSlides},
	{"touch-never-passes-absolute-expiry", plain, touchCapped},
	{"touch-throttled-inside-interval", plain, touchThrottled},
	{"touch-absent-is-not-found", plain, touchAbsent},
	{"touch-honours-session-idle-timeout", plain, touchIdleTimeout},
}

func touchSlides(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	id := h.create(t, s, 0)
	at := h.clock.Advance(50 * time.Minute)
	if err := h.s.Touch(h.ctx, id, at, time.Hour, time.Minute); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	got := h.get(t, id, at)
	sameTime(t, "LastUsedAt after Touch", got.LastUsedAt, at)
	sameTime(t, "IdleUntil after Touch", got.IdleUntil, at.Add(time.Hour))
	sameTime(t, "CreatedAt after Touch", got.CreatedAt, start)
	sameTime(t, "ExpiresAt after Touch", got.ExpiresAt, s.ExpiresAt)
	sameBytes(t, "RefreshHash after Touch", got.RefreshHash, s.RefreshHash)

	// Live past the original idle expiry, dead after the new one.
	h.get(t, id, h.clock.Advance(30*time.Minute))
	h.absent(t, id, h.clock.Advance(30*time.Minute), "an hour after the last Touch")
}

func touchCapped(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	s.ExpiresAt = start.Add(90 * time.Minute)
	id := h.create(t, s, 0)
	at := h.clock.Advance(45 * time.Minute)
	if err := h.s.Touch(h.ctx, id, at, time.Hour, 0); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	got := h.get(t, id, at)
	sameTime(t, "IdleUntil after a Touch whose idle window passes ExpiresAt", got.IdleUntil, s.ExpiresAt)
	sameTime(t, "ExpiresAt after Touch", got.ExpiresAt, s.ExpiresAt)
}

// touchThrottled: most requests must write nothing. Inside the interval
// the stored state does not change (and, with WithWrites, the backend sees
// no write); at the interval it does.
func touchThrottled(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	id := h.create(t, s, 0)
	h.get(t, id, start)

	var before int64
	if h.opts.writes != nil {
		before = h.opts.writes(h.s)
	}
	for range 10 {
		if err := h.s.Touch(h.ctx, id, h.clock.Advance(5*time.Second), time.Hour, time.Minute); err != nil {
			t.Fatalf("Touch inside the interval: %v", err)
		}
	}
	if h.opts.writes != nil {
		if after := h.opts.writes(h.s); after != before {
			t.Errorf("10 Touches inside the interval made %d writes, want 0", after-before)
		}
	}
	got := h.get(t, id, h.clock.Now())
	sameTime(t, "LastUsedAt after Touches inside the interval", got.LastUsedAt, start)
	sameTime(t, "IdleUntil after Touches inside the interval", got.IdleUntil, s.IdleUntil)

	at := start.Add(time.Minute) // exactly the interval after the last recorded use
	h.clock.Advance(at.Sub(h.clock.Now()))
	if err := h.s.Touch(h.ctx, id, at, time.Hour, time.Minute); err != nil {
		t.Fatalf("Touch at the interval: %v", err)
	}
	if h.opts.writes != nil {
		if after := h.opts.writes(h.s); after == before {
			t.Errorf("Touch at the interval made no write")
		}
	}
	got = h.get(t, id, at)
	sameTime(t, "LastUsedAt after a Touch at the interval", got.LastUsedAt, at)
	sameTime(t, "IdleUntil after a Touch at the interval", got.IdleUntil, at.Add(time.Hour))
}

func touchAbsent(t *testing.T, h *harness) {
	now := h.clock.Now()
	for _, id := range []string{store.NewID(), "", "not an id"} {
		if err := h.s.Touch(h.ctx, id, now, time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Touch(%q) of an absent session = %v, want store.ErrNotFound", id, err)
		}
	}
	id := h.create(t, newSession("alice", now), 0)
	if _, err := h.s.RevokeSubject(h.ctx, "alice", ""); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	if err := h.s.Touch(h.ctx, id, now, time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch of a revoked session = %v, want store.ErrNotFound", err)
	}
	h.absent(t, id, now, "a revoked session after Touch")
}

// touchIdleTimeout: a login's own idle timeout bounds how far Touch slides
// IdleUntil: min(now+min(idle, IdleTimeout), ExpiresAt), and zero means
// the idle passed. Touch keeps IdleTimeout.
func touchIdleTimeout(t *testing.T, h *harness) {
	start := h.clock.Now()
	at := start.Add(time.Minute)
	for _, c := range []struct {
		name        string
		idleTimeout time.Duration
		expires     time.Duration // after start; 0 for newSession's day
		want        time.Time
	}{
		{"IdleTimeout 10m, idle 1h", 10 * time.Minute, 0, at.Add(10 * time.Minute)},
		{"IdleTimeout 2h, idle 1h", 2 * time.Hour, 0, at.Add(time.Hour)},
		{"no IdleTimeout, idle 1h", 0, 0, at.Add(time.Hour)},
		{"IdleTimeout 10m, ExpiresAt 5m away", 10 * time.Minute, 6 * time.Minute, start.Add(6 * time.Minute)},
	} {
		s := newSession("alice", start)
		s.IdleTimeout = c.idleTimeout
		if c.expires > 0 {
			s.ExpiresAt = start.Add(c.expires)
		}
		id := h.create(t, s, 0)
		if err := h.s.Touch(h.ctx, id, at, time.Hour, 0); err != nil {
			t.Fatalf("%s: Touch: %v", c.name, err)
		}
		want := *s
		want.ID, want.LastUsedAt, want.IdleUntil = id, at, c.want
		sameSession(t, c.name+": Get after Touch", h.get(t, id, at), &want)
	}

	// The timeout holds at every touch: dead once it passes unused.
	s := newSession("alice", start)
	s.IdleTimeout = 10 * time.Minute
	id := h.create(t, s, 0)
	for i := 1; i <= 3; i++ {
		if err := h.s.Touch(h.ctx, id, start.Add(time.Duration(i)*5*time.Minute), time.Hour, time.Minute); err != nil {
			t.Fatalf("Touch #%d: %v", i, err)
		}
	}
	last := start.Add(15 * time.Minute)
	got := h.get(t, id, last.Add(10*time.Minute-time.Millisecond))
	sameTime(t, "IdleUntil after three Touches 5 minutes apart", got.IdleUntil, last.Add(10*time.Minute))
	if got.IdleTimeout != s.IdleTimeout {
		t.Errorf("IdleTimeout after three Touches = %s, want %s", got.IdleTimeout, s.IdleTimeout)
	}
	h.absent(t, id, last.Add(10*time.Minute), "10 minutes after the last Touch of a session with a 10-minute IdleTimeout")
}
