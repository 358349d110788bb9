package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// Touches and freshens race with the writes that end or change a
// session. A store that touches by reading the whole session and writing
// it back (GET then SET, find then replace) brings a revoked session back
// to life, or makes a spent refresh hash current again; these rules catch
// it.
var raceRules = []rule{
	{"race-touch-vs-revoke", plain, func(t *testing.T, h *harness) {
		raceEnd(t, h, touching, "Revoke", revoking(h))
	}},
	{"race-touch-vs-revoke-subject", plain, func(t *testing.T, h *harness) {
		raceEnd(t, h, touching, "RevokeSubject", func(s *store.Session) error {
			_, err := h.s.RevokeSubject(h.ctx, s.Subject, "")
			return err
		})
	}},
	{"race-touch-vs-cap-eviction", plain, func(t *testing.T, h *harness) {
		raceEnd(t, h, touching, "a capped Create", func(s *store.Session) error {
			return h.s.Create(h.ctx, newSession(s.Subject, s.CreatedAt.Add(time.Second)), 1)
		})
	}},
	{"race-touch-vs-rotate", plain, func(t *testing.T, h *harness) { raceRotate(t, h, touching) }},
	{"race-rotate-vs-revoke", plain, raceRotateRevoke},
	{"race-freshen-vs-revoke", plain, func(t *testing.T, h *harness) {
		raceEnd(t, h, freshening, "Revoke", revoking(h))
	}},
	{"race-freshen-vs-rotate", plain, func(t *testing.T, h *harness) { raceRotate(t, h, freshening) }},
}

func revoking(h *harness) func(s *store.Session) error {
	return func(s *store.Session) error { return h.s.Revoke(h.ctx, s.Subject, s.ID) }
}

// A racy store goes wrong only when one call lands inside another's
// window, between a read and the write that depends on it: a few
// microseconds to a round trip. One round of a race can miss it: on a
// loaded machine the scheduler may run the racing goroutines one after
// another, and then nothing raced at all. So a race rule times its calls
// and repeats its round: at least the rule's least number of rounds, then
// on until raceWanted rounds have raced (calls were in flight together)
// or raceFor has passed since the first; it stops at the first round that
// fails. On a backend whose calls take milliseconds every round races and
// the least number decides; on a fast store, or a loaded machine, the
// rounds that did not race are made up for.
const (
	raceWanted = 8
	raceFor    = time.Second
)

// raceRounds is the least number of rounds of each touch race;
// raceTouchers goroutines touch the session in each.
const raceRounds, raceTouchers = 12, 4

// rounds calls round with 0, 1, ... as the comment on raceWanted says;
// round reports whether its calls raced.
func rounds(t *testing.T, least int, round func(i int) (raced bool)) {
	t.Helper()
	begin := time.Now()
	n, raced := 0, 0
	for ; !t.Failed() && (n < least || raced < raceWanted && time.Since(begin) < raceFor); n++ {
		if round(n) {
			raced++
		}
	}
	t.Logf("%d rounds in %s, %d of them raced", n, time.Since(begin).Round(time.Millisecond), raced)
}

// span is when a call was in flight, by the monotonic clock.
type span struct{ from, to time.Time }

// timed calls f and returns when it ran.
func timed(f func()) span {
	from := time.Now()
	f()
	return span{from, time.Now()}
}

func (s span) overlaps(o span) bool { return s.from.Before(o.to) && o.from.Before(s.to) }

// together reports whether any two of spans overlap.
func together(spans []span) bool {
	s := slices.SortedFunc(slices.Values(spans), func(x, y span) int { return x.from.Compare(y.from) })
	for i := 1; i < len(s); i++ {
		if s[i].from.Before(s[i-1].to) {
			return true
		}
		s[i].to = later(s[i].to, s[i-1].to) // the latest end so far
	}
	return false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// crossing reports whether any span of a overlaps any of b.
func crossing(a, b []span) bool {
	for _, x := range a {
		for _, y := range b {
			if x.overlaps(y) {
				return true
			}
		}
	}
	return false
}

// race runs n contenders, each calling step (with 1, 2, ...) until it is
// stopped or step returns false (having reported why); once they have
// made a few calls it calls end, lets them go on a while, and stops them.
// It reports whether end was in flight together with a contender's call,
// and end's error.
func race(n int, step func(i int) bool, end func() error) (raced bool, err error) {
	var calls atomic.Int64
	stop := make(chan struct{})
	spans := make([][]span, n)
	var wg sync.WaitGroup
	for c := range n {
		wg.Go(func() {
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ok := true
				spans[c] = append(spans[c], timed(func() { ok = step(i) }))
				if !ok {
					return
				}
				calls.Add(1)
			}
		})
	}
	waitFor(&calls, 2*int64(n))
	e := timed(func() { err = end() })
	waitFor(&calls, calls.Load()+4*int64(n))
	close(stop)
	wg.Wait()
	return crossing([]span{e}, slices.Concat(spans...)), err
}

// waitFor waits until n reaches at least want, or a second has passed.
func waitFor(n *atomic.Int64, want int64) {
	deadline := time.Now().Add(time.Second)
	for n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
}

// writer is a write that changes a live session in place and races the
// writes that end or rotate it: its name, and its step (see race) on the
// session id at instants after start that only grow.
type writer struct {
	name string
	step func(t *testing.T, h *harness, id string, start time.Time) func(i int) bool
}

var (
	// touching touches, each time a write (every = 0).
	touching = writer{"Touch", func(t *testing.T, h *harness, id string, start time.Time) func(i int) bool {
		return expectGone(t, "Touch", func(i int) error {
			return h.s.Touch(h.ctx, id, start.Add(time.Duration(i)*time.Millisecond), time.Hour, 0)
		})
	}}
	// freshening freshens for five minutes.
	freshening = writer{"Freshen", func(t *testing.T, h *harness, id string, start time.Time) func(i int) bool {
		return expectGone(t, "Freshen", func(i int) error {
			at := start.Add(time.Duration(i) * time.Millisecond)
			return h.s.Freshen(h.ctx, id, at.Add(5*time.Minute), at)
		})
	}}
)

// expectGone returns a step calling call, which may fail with ErrNotFound
// once the session is gone and with no other error.
func expectGone(t *testing.T, name string, call func(i int) error) func(i int) bool {
	return func(i int) bool {
		if err := call(i); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s during the race: %v", name, err)
			return false
		}
		return true
	}
}

// raceEnd: w racing end (what) must not bring the session back.
func raceEnd(t *testing.T, h *harness, w writer, what string, end func(*store.Session) error) {
	start := h.clock.Now()
	rounds(t, raceRounds, func(round int) bool {
		sub := fmt.Sprintf("racer%d", round)
		s := newSession(sub, start)
		// Live for a day unless a write shortens it, so that a session a
		// Freshen brought back reads as live at the instant below.
		s.IdleUntil = s.ExpiresAt
		id := h.create(t, s, 0)
		raced, err := race(raceTouchers, w.step(t, h, id, start), func() error { return end(s) })
		if err != nil {
			t.Fatalf("%s during the race: %v", what, err)
		}
		// Read at an instant after every call the race made.
		at := start.Add(time.Hour)
		if _, err := h.s.Get(h.ctx, id, at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: the session ended by %s during %s calls reads as %v, want store.ErrNotFound: a %s brought it back", round, what, w.name, err, w.name)
		}
		for _, x := range h.list(t, sub, at) {
			if x.ID == id {
				t.Fatalf("round %d: List holds the session ended by %s", round, what)
			}
		}
		return raced
	})
}

// raceRotate: w racing a rotation must not undo it.
func raceRotate(t *testing.T, h *harness, w writer) {
	start := h.clock.Now()
	rounds(t, raceRounds, func(round int) bool {
		s := newSession("alice", start)
		id := h.create(t, s, 0)
		r := rotation(s.RefreshHash, start, 5)
		raced, err := race(raceTouchers, w.step(t, h, id, start), func() error { return h.s.Rotate(h.ctx, id, r, start) })
		if err != nil {
			t.Fatalf("Rotate during the race: %v", err)
		}
		got := h.get(t, id, start.Add(time.Minute))
		if !bytes.Equal(got.RefreshHash, r.RefreshHash) || !bytes.Equal(got.SecretHash, r.SecretHash) {
			t.Fatalf("round %d: after a Rotate raced by %s calls the hashes are not the new ones: a %s undid the rotation", round, w.name, w.name)
		}
		if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], s.RefreshHash) {
			t.Fatalf("round %d: after a Rotate raced by %s calls Spent holds %d hashes, want the one rotated from", round, w.name, len(got.Spent))
		}
		return raced
	})
}

// raceRotateRevoke: whichever of a rotation and a revocation comes first,
// the session ends revoked. A refresher rotates the session over and over,
// each time from the hash it last rotated to, while it is revoked.
func raceRotateRevoke(t *testing.T, h *harness) {
	start := h.clock.Now()
	rounds(t, 2*raceRounds, func(round int) bool {
		s := newSession("alice", start)
		id := h.create(t, s, 0)
		current := s.RefreshHash
		raced, err := race(1, func(int) bool {
			r := rotation(current, start, 5)
			err := h.s.Rotate(h.ctx, id, r, start)
			switch {
			case err == nil:
				current = r.RefreshHash
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("Rotate racing Revoke = %v, want nil or store.ErrNotFound", err)
				return false
			}
			return true
		}, func() error { return h.s.Revoke(h.ctx, "alice", id) })
		if err != nil {
			t.Fatalf("Revoke racing Rotate: %v", err)
		}
		h.absent(t, id, start, "a session revoked while it rotated")
		if t.Failed() {
			t.Fatalf("round %d: a rotation brought a revoked session back", round)
		}
		return raced
	})
}
