package conformance

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var contextRules = []rule{
	{"context-canceled-returns-promptly", plain, func(t *testing.T, h *harness) {
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		doneContext(t, h, ctx, context.Canceled)
	}},
	{"context-deadline-returns-promptly", plain, func(t *testing.T, h *harness) {
		ctx, cancel := context.WithDeadline(h.ctx, time.Now().Add(-time.Second))
		defer cancel()
		doneContext(t, h, ctx, context.DeadlineExceeded)
	}},
	{"context-canceled-mid-flight", plain, canceledMidFlight},
}

// canceledMidFlight: logins race under a cap while their context is
// canceled. Each call succeeds or fails with the context's error, all
// return promptly, the cap held through the cancellations, and the store
// works afterwards: no lock, transaction or connection is left behind.
func canceledMidFlight(t *testing.T, h *harness) {
	const workers, max = 16, 2
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	start := h.clock.Now()
	var made, instant atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				at := start.Add(time.Duration(instant.Add(1)) * time.Millisecond)
				err := h.s.Create(ctx, newSession("alice", at), max)
				switch {
				case err == nil:
					made.Add(1)
				case errors.Is(err, context.Canceled):
					return
				default:
					errs <- err
					return
				}
			}
		})
	}
	waitFor(&made, 2*workers)
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(promptly):
		t.Fatalf("logins did not return within %s of their context's cancellation", promptly)
	}
	close(errs)
	for err := range errs {
		t.Errorf("Create racing a cancellation = %v, want nil or an error wrapping context.Canceled", err)
	}
	if made.Load() == 0 {
		t.Fatalf("no login succeeded before the cancellation")
	}
	at := h.clock.Advance(30 * time.Minute) // after every login above
	if l := h.list(t, "alice", at); len(l) > max {
		t.Errorf("after logins canceled mid-flight, %d sessions are live under a cap of %d", len(l), max)
	}
	id := h.create(t, newSession("alice", at), max)
	l := h.list(t, "alice", at)
	if len(l) != max || !slices.Contains(ids(l), id) {
		t.Errorf("a login after the cancellations left %v live, want %d sessions including %s", ids(l), max, id)
	}
}

var brokenRules = []rule{
	{"backend-failure-is-an-error-not-absence", needsBroken, backendFailure},
}

// promptly is how long a store may take to notice a done context or a dead
// backend before the suite calls it a hang.
const promptly = 10 * time.Second

// call runs op and fails t if it has not returned within promptly.
func call(t *testing.T, what string, op func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- op() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(promptly):
		t.Fatalf("%s did not return within %s", what, promptly)
		return nil
	}
}

// operation is one call of a store method; it returns the session the
// method returned, if any.
type operation struct {
	name string
	op   func() (*store.Session, error)
}

// strikeKey is the key of operations' Throttle calls.
const strikeKey = "ip:192.0.2.7"

// operations returns one call of every Store method on a session that
// exists (id, with refresh hash old) and a subject that has it, and of
// every Throttle method when the store implements store.Throttle.
func operations(h *harness, ctx context.Context, id string, old []byte) []operation {
	now := h.clock.Now()
	ops := []operation{
		{"Create", func() (*store.Session, error) {
			return nil, h.s.Create(ctx, newSession("alice", now), 0)
		}},
		{"Create with a cap", func() (*store.Session, error) {
			return nil, h.s.Create(ctx, newSession("alice", now), 2)
		}},
		{"Get", func() (*store.Session, error) { return h.s.Get(ctx, id, now) }},
		{"Touch", func() (*store.Session, error) { return nil, h.s.Touch(ctx, id, now, time.Hour, 0) }},
		{"Freshen", func() (*store.Session, error) { return nil, h.s.Freshen(ctx, id, now.Add(time.Minute), now) }},
		{"Rotate", func() (*store.Session, error) { return nil, h.s.Rotate(ctx, id, rotation(old, now, 5), now) }},
		{"Revoke", func() (*store.Session, error) { return nil, h.s.Revoke(ctx, "alice", id) }},
		{"RevokeSubject", func() (*store.Session, error) {
			_, err := h.s.RevokeSubject(ctx, "alice", "")
			return nil, err
		}},
		{"List", func() (*store.Session, error) {
			l, err := h.s.List(ctx, "alice", now)
			if len(l) > 0 {
				return &l[0], err
			}
			return nil, err
		}},
	}
	if h.th == nil {
		return ops
	}
	return append(ops, []operation{
		{"AddStrike", func() (*store.Session, error) {
			_, err := h.th.AddStrike(ctx, strikeKey, now, time.Minute)
			return nil, err
		}},
		{"Strikes", func() (*store.Session, error) {
			_, err := h.th.Strikes(ctx, []string{strikeKey}, now)
			return nil, err
		}},
		{"ClearStrikes", func() (*store.Session, error) { return nil, h.th.ClearStrikes(ctx, []string{strikeKey}) }},
	}...)
}

func doneContext(t *testing.T, h *harness, ctx context.Context, want error) {
	s := newSession("alice", h.clock.Now())
	id := h.create(t, s, 0)
	var strikes store.Strikes
	if h.th != nil {
		strikes = h.addStrike(t, strikeKey, h.clock.Now(), time.Hour)
	}
	before := h.get(t, id, h.clock.Now())
	for _, o := range operations(h, ctx, id, s.RefreshHash) {
		var got *store.Session
		err := call(t, o.name, func() (err error) {
			got, err = o.op()
			return err
		})
		if !errors.Is(err, want) {
			t.Errorf("%s with a done context = %v, want an error wrapping %v", o.name, err, want)
		}
		if got != nil {
			t.Errorf("%s with a done context returned a session", o.name)
		}
	}
	// Nothing was written.
	h.hasExactly(t, "alice", []string{id}, "after calls with a done context")
	sameSession(t, "the session after calls with a done context", h.get(t, id, h.clock.Now()), before)
	if h.th != nil {
		sameStrikes(t, "the strikes after calls with a done context", h.strikes(t, []string{strikeKey}, h.clock.Now())[0], strikes)
	}
}

// backendFailure: a store that cannot reach its backend must say so. Were
// it to answer "not found", a revoked session could not be told from an
// outage; were it to answer with a session, a check would pass unverified.
//
// Throttle calls fail likewise: were they to answer "no strikes", a
// password guesser would go unthrottled through an outage.
func backendFailure(t *testing.T, h *harness) {
	if h.throttles && h.th == nil {
		t.Errorf("newStore's stores implement store.Throttle, but WithBroken's does not: its Throttle methods go untested")
	}
	id := store.NewID()
	for _, o := range operations(h, h.ctx, id, randomHash()) {
		var got *store.Session
		err := call(t, o.name, func() (err error) {
			got, err = o.op()
			return err
		})
		switch {
		case err == nil:
			t.Errorf("%s on a broken backend succeeded, want an error", o.name)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			t.Errorf("%s on a broken backend = %v, want an error that is neither store.ErrNotFound nor store.ErrConflict", o.name, err)
		}
		if got != nil {
			t.Errorf("%s on a broken backend returned a session", o.name)
		}
	}
}

var stringRules = []rule{
	{"strings-subjects-kept-exactly", plain, subjectsExact},
	{"strings-device-fields-kept-exactly", plain, deviceExact},
}

// awkward are subjects a store must keep apart and return byte for byte:
// quotes and SQL, LIKE and glob wildcards, JSON and key separators,
// unicode, case and trailing-space variants (a case-insensitive or
// PAD SPACE collation would merge them), and the longest allowed.
var awkward = []string{
	"alice", "Alice", "alice ", " alice", "alice\t", "ALICE",
	"o'brien", `say "hi"`, `back\slash`, "' OR '1'='1", "x'); DROP TABLE sessions; --",
	"%", "_", "a%", "a_", "*", "?", "[a]", "a*",
	`{"sub":1}`, "user:1", "user:1:x", "{user1}", "a\nb",
	"ünïcødé", "日本語", "🔐🗝️", "e\u0301", "\u00e9", // two spellings of é stay two subjects
	strings.Repeat("x", store.MaxSubjectLen),
	strings.Repeat("é", store.MaxSubjectLen/2),
	strings.Repeat("🔐", store.MaxSubjectLen/4),
}

func subjectsExact(t *testing.T, h *harness) {
	now := h.clock.Now()
	made := map[string]string{}
	for _, sub := range awkward {
		s := newSession(sub, now)
		want := *s
		id := h.create(t, s, 1)
		want.ID = id
		made[sub] = id
		sameSession(t, "Get of subject "+clip(sub), h.get(t, id, now), &want)
	}
	for _, sub := range awkward {
		h.hasExactly(t, sub, []string{made[sub]}, "each awkward subject")
	}
	// Revoking by each subject touches no other.
	for i, sub := range awkward {
		if n, err := h.s.RevokeSubject(h.ctx, sub, ""); err != nil || n != 1 {
			t.Errorf("RevokeSubject(%q) = %d, %v; want 1, nil", clip(sub), n, err)
		}
		for _, other := range awkward[i+1:] {
			if _, err := h.s.Get(h.ctx, made[other], now); err != nil {
				t.Errorf("RevokeSubject(%q) ended subject %q's session: %v", clip(sub), clip(other), err)
			}
		}
	}
}

func deviceExact(t *testing.T, h *harness) {
	now := h.clock.Now()
	long := strings.Repeat("ü", store.MaxDeviceLen/2)
	for _, d := range []store.Device{
		{Label: long, UserAgent: strings.Repeat("M", store.MaxDeviceLen), IP: strings.Repeat("f", store.MaxDeviceLen)},
		{Label: `Bob's "phone" \ 日本`, UserAgent: "x'); DROP TABLE sessions; --", IP: "::ffff:192.0.2.1"},
		{Label: `{"label":[1,2]}`, UserAgent: "%_*?", IP: ""},
		{Label: " padded ", UserAgent: "\ttabs\n", IP: "fe80::1%eth0"},
	} {
		s := newSession("alice", now)
		s.Device = d
		want := *s
		id := h.create(t, s, 0)
		want.ID = id
		sameSession(t, "Get of an awkward device", h.get(t, id, now), &want)
	}
	for _, s := range h.list(t, "alice", now) {
		if s.Device == (store.Device{}) {
			t.Errorf("List lost the device of %s", s.ID)
		}
	}
}
