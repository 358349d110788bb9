package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// Option configures Run.
type Option func(*options)

type options struct {
	broken  func(t *testing.T) store.Store
	twin    func(t *testing.T, s store.Store) store.Store
	writes  func(s store.Store) int64
	timeout time.Duration
	settle  func(b *testing.B)
}

// WithBroken gives the suite stores whose backend cannot answer: a closed
// client, a dead address, a stopped private server. Every method of such a
// store must fail with an error that is neither store.ErrNotFound nor
// store.ErrConflict, and never return a session. Without this option the
// backend-failure rule does not run and Run's summary says so. Each call
// must fail within 10 seconds: give the client short connect and
// server-selection timeouts.
func WithBroken(newBroken func(t *testing.T) store.Store) Option {
	return func(o *options) { o.broken = newBroken }
}

// WithTwin gives the suite a second store value on the same data as s
// (a store returned by newStore), as a second process sharing the backend
// would open it: a client, pool or connection of its own, with the same
// key prefix, table or database. The rule that Throttle counts atomically
// across processes races calls on both. Without it that rule races on s
// alone; an in-process store has nothing more to show and may leave it
// out.
func WithTwin(twin func(t *testing.T, s store.Store) store.Store) Option {
	return func(o *options) { o.twin = twin }
}

// WithWrites lets the suite count the writes a store makes to its backend,
// for the touch-throttling rule: writes must not change across touches
// inside the interval. Without it the rule checks the stored state alone.
// The function is called with a store returned by newStore.
func WithWrites(count func(s store.Store) int64) Option {
	return func(o *options) { o.writes = count }
}

// WithTimeout bounds each rule's context (default 60s). A store call that
// outlives it fails the rule instead of hanging the test binary.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithSettle is for Benchmark alone (Run ignores it): f runs after the
// benchmark's logins and before List is measured, for a backend that
// gathers what its queries need lazily, as PostgreSQL gathers planner
// statistics with ANALYZE.
func WithSettle(f func(b *testing.B)) Option {
	return func(o *options) { o.settle = f }
}

// rule is one clause of the store.Store contract.
type rule struct {
	name  string
	needs needs
	run   func(t *testing.T, h *harness)
}

// needs says what a rule needs beyond a store from newStore.
type needs int

const (
	plain needs = iota
	// needsBroken rules run on stores from WithBroken, and are left out
	// without it.
	needsBroken
	// needsThrottle rules run on stores that implement store.Throttle, and
	// are left out for others.
	needsThrottle
	// needsWatch rules run on stores that implement store.Watcher, and
	// are left out for others.
	needsWatch
)

// rules lists every rule in the order Run runs them. Names are stable:
// users select rules by them with -run.
var rules = concat(
	createRules,
	expiryRules,
	touchRules,
	freshenRules,
	rotateRules,
	revokeRules,
	listRules,
	capRules,
	raceRules,
	contextRules,
	stringRules,
	throttleRules,
	watchRules,
	brokenRules,
)

func concat(groups ...[]rule) []rule {
	var all []rule
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// Run runs every rule of the store.Store contract as a subtest of t, each
// on a fresh store from newStore, and logs how many ran and passed. The
// rules of the optional store.Throttle and store.Watcher run when the
// stores implement them.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...Option) {
	t.Helper()
	o := options{timeout: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	var throttles *bool // whether newStore's stores implement store.Throttle, once one is made
	var watches *bool   // whether they implement store.Watcher
	ran, passed, leftBroken, leftThrottle, leftWatch := 0, 0, 0, 0, 0
	for _, r := range rules {
		if r.needs == needsBroken && o.broken == nil {
			leftBroken++
			continue
		}
		if r.needs == needsThrottle && throttles != nil && !*throttles {
			leftThrottle++
			continue
		}
		if r.needs == needsWatch && watches != nil && !*watches {
			leftWatch++
			continue
		}
		skipped, skippedWatch := false, false
		ok := t.Run(r.name, func(t *testing.T) {
			mk := newStore
			if r.needs == needsBroken {
				mk = o.broken
			}
			h := &harness{opts: o, clock: newClock()}
			ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
			t.Cleanup(cancel)
			h.ctx = ctx
			h.s = mk(t)
			if h.s == nil {
				t.Fatal("newStore returned nil")
			}
			h.th, _ = h.s.(store.Throttle)
			if w, ok := h.s.(store.Watcher); ok && w.Watches() {
				h.w = w
			}
			if r.needs != needsBroken {
				has, hasWatch := h.th != nil, h.w != nil
				throttles, watches = &has, &hasWatch
			}
			h.throttles = throttles != nil && *throttles
			if r.needs == needsThrottle && h.th == nil {
				skipped = true
				t.Skip("the store does not implement store.Throttle")
			}
			if r.needs == needsWatch && h.w == nil {
				skippedWatch = true
				t.Skip("the store does not implement store.Watcher, or does not watch")
			}
			r.run(t, h)
		})
		switch {
		case skipped:
			leftThrottle++
		case skippedWatch:
			leftWatch++
		case ok:
			ran++
			passed++
		default:
			ran++
		}
	}
	msg := fmt.Sprintf("conformance: %s: %d rules ran, %d passed", t.Name(), ran, passed)
	if ran != passed {
		msg += fmt.Sprintf(", %d FAILED", ran-passed)
	}
	if leftBroken > 0 {
		msg += fmt.Sprintf(" (%d backend-failure rule(s) need WithBroken)", leftBroken)
	}
	if leftThrottle > 0 {
		msg += fmt.Sprintf(" (%d throttle rule(s) left out: the store does not implement store.Throttle)", leftThrottle)
	}
	if leftWatch > 0 {
		msg += fmt.Sprintf(" (%d watch rule(s) left out: the store does not report its changes (store.Watcher))", leftWatch)
	}
	t.Log(msg)
}

// harness is what a rule works with: a fresh store, a context bounded by
// the rule timeout, and the suite's clock.
type harness struct {
	s   store.Store
	th  store.Throttle // s, when it implements store.Throttle
	w   store.Watcher  // s, when it implements store.Watcher
	ctx context.Context
	// throttles: newStore's stores implement store.Throttle, as far as
	// Run has seen.
	throttles bool
	opts      options
	clock     *clock
}

// clock is the suite's notion of now: the real time at the rule's start,
// truncated to the millisecond (the precision the contract promises), and
// moved only forward.
type clock struct{ origin, now time.Time }

func newClock() *clock {
	now := time.Now().Truncate(time.Millisecond)
	return &clock{origin: now, now: now}
}

// Now returns the current instant.
func (c *clock) Now() time.Time { return c.now }

// Advance moves the clock forward by d and returns the new instant.
func (c *clock) Advance(d time.Duration) time.Time {
	if d < 0 {
		panic("conformance: the clock only moves forward")
	}
	c.now = c.now.Add(d)
	return c.now
}

// randomHash returns a fresh 32-byte value standing in for a SHA-256 hash.
func randomHash() []byte {
	b := make([]byte, store.HashLen)
	rand.Read(b)
	return b
}

// newSession returns a session of subject created at now, with distinct
// random hashes: idle after an hour, absolute expiry after a day, fresh for
// five minutes, opaque access secret for fifteen.
//
// It has no Actor and no IdleTimeout of its own: the rules that need them
// set them.
func newSession(subject string, now time.Time) *store.Session {
	return &store.Session{
		Subject:         subject,
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
		SecretHash:      randomHash(),
		RefreshHash:     randomHash(),
		Claims:          map[string]any{"role": "reader", "n": 3.0},
		CreatedAt:       now,
		LastUsedAt:      now,
		FreshUntil:      now.Add(5 * time.Minute),
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(time.Hour),
		ExpiresAt:       now.Add(24 * time.Hour),
	}
}

func (h *harness) create(t *testing.T, s *store.Session, max int) string {
	t.Helper()
	if err := h.s.Create(h.ctx, s, max); err != nil {
		t.Fatalf("Create(subject %q, max %d): %v", clip(s.Subject), max, err)
	}
	if !store.ValidID(s.ID) {
		t.Fatalf("Create assigned id %q: want %d base62 characters", s.ID, store.IDLen)
	}
	return s.ID
}

func (h *harness) get(t *testing.T, id string, now time.Time) *store.Session {
	t.Helper()
	s, err := h.s.Get(h.ctx, id, now)
	if err != nil {
		t.Fatalf("Get(%s) at %s: %v", id, h.rel(now), err)
	}
	if s == nil {
		t.Fatalf("Get(%s): nil session and nil error", id)
	}
	return s
}

// absent asserts that id reads as ErrNotFound at now.
func (h *harness) absent(t *testing.T, id string, now time.Time, why string) {
	t.Helper()
	s, err := h.s.Get(h.ctx, id, now)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: Get(%s) = %v, %v; want store.ErrNotFound", why, id, describe(s), err)
	}
	if s != nil && err != nil {
		t.Errorf("%s: Get returned a session together with an error", why)
	}
}

func (h *harness) list(t *testing.T, subject string, now time.Time) []store.Session {
	t.Helper()
	l, err := h.s.List(h.ctx, subject, now)
	if err != nil {
		t.Fatalf("List(%q): %v", clip(subject), err)
	}
	return l
}

// rel describes an instant relative to the start of the rule's clock.
func (h *harness) rel(at time.Time) string { return "start+" + at.Sub(h.clock.origin).String() }

func ids(l []store.Session) []string {
	out := make([]string, len(l))
	for i := range l {
		out[i] = l[i].ID
	}
	return out
}

func describe(s *store.Session) string {
	if s == nil {
		return "<nil>"
	}
	return "session " + s.ID
}

// clip shortens long subjects in messages.
func clip(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…(%d bytes)", s[:32], len(s))
	}
	return s
}

// sameSession compares every field the contract promises to keep: hashes
// byte for byte, times and IdleTimeout to the millisecond (times in any
// location), Claims as encoding/json decodes them, Actor nil or equal.
func sameSession(t *testing.T, what string, got, want *store.Session) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s: ID = %q, want %q", what, got.ID, want.ID)
	}
	if got.Subject != want.Subject {
		t.Errorf("%s: Subject = %q, want %q", what, clip(got.Subject), clip(want.Subject))
	}
	if got.Device != want.Device {
		t.Errorf("%s: Device = %+v, want %+v", what, got.Device, want.Device)
	}
	sameBytes(t, what+": SecretHash", got.SecretHash, want.SecretHash)
	sameBytes(t, what+": RefreshHash", got.RefreshHash, want.RefreshHash)
	if len(got.Spent) != len(want.Spent) {
		t.Errorf("%s: %d spent hashes, want %d", what, len(got.Spent), len(want.Spent))
	} else {
		for i := range want.Spent {
			sameBytes(t, fmt.Sprintf("%s: Spent[%d]", what, i), got.Spent[i], want.Spent[i])
		}
	}
	if !sameClaims(got.Claims, want.Claims) {
		t.Errorf("%s: Claims = %#v, want %#v", what, got.Claims, want.Claims)
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
		{"RotatedAt", got.RotatedAt, want.RotatedAt},
		{"FreshUntil", got.FreshUntil, want.FreshUntil},
		{"AccessExpiresAt", got.AccessExpiresAt, want.AccessExpiresAt},
		{"IdleUntil", got.IdleUntil, want.IdleUntil},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	} {
		sameTime(t, what+": "+f.name, f.got, f.want)
	}
	if got.IdleTimeout.Truncate(time.Millisecond) != want.IdleTimeout.Truncate(time.Millisecond) {
		t.Errorf("%s: IdleTimeout = %s, want %s", what, got.IdleTimeout, want.IdleTimeout)
	}
	sameActor(t, what, got.Actor, want.Actor)
}

// sameActor compares Actors: nil must come back nil, and a set one equal.
func sameActor(t *testing.T, what string, got, want *store.Actor) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s: Actor = %+v, want nil (the subject's own login)", what, *got)
	case want != nil && got == nil:
		t.Errorf("%s: Actor = nil, want %+v", what, *want)
	case want != nil && *got != *want:
		t.Errorf("%s: Actor = {%q %q}, want {%q %q}", what, clip(got.Subject), got.SessionID, clip(want.Subject), want.SessionID)
	}
}

// sameTime compares to the millisecond; a zero time must come back zero.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %s, want the zero time", what, got)
		}
		return
	}
	if !got.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("%s = %s, want %s", what, got.UTC(), want.UTC())
	}
}

// sameBytes compares byte for byte; nil and empty are the same.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %x, want %x", what, got, want)
	}
}

// sameClaims compares claims as encoding/json would decode them; a nil
// map and an empty one are the same.
func sameClaims(got, want map[string]any) bool {
	if len(got) == 0 && len(want) == 0 {
		return true
	}
	return reflect.DeepEqual(got, want)
}
