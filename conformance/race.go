package conformance

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// Touches race with the writes that end or change a session. A store that
// touches by reading the whole session and writing it back (GET then SET,
// find then replace) brings a revoked session back to life, or makes a
// spent refresh hash current again; these rules catch it.
var raceRules = []rule{
	{"race-touch-vs-revoke", false, func(t *testing.T, h *harness) {
		raceTouches(t, h, "Revoke", func(s *store.Session) error { return h.s.Revoke(h.ctx, s.Subject, s.ID) })
	}},
	{"race-touch-vs-revoke-subject", false, func(t *testing.T, h *harness) {
		raceTouches(t, h, "RevokeSubject", func(s *store.Session) error {
			_, err := h.s.RevokeSubject(h.ctx, s.Subject, "")
			return err
		})
	}},
	{"race-touch-vs-cap-eviction", false, func(t *testing.T, h *harness) {
		raceTouches(t, h, "a capped Create", func(s *store.Session) error {
			return h.s.Create(h.ctx, newSession(s.Subject, s.CreatedAt.Add(time.Second)), 1)
		})
	}},
	{"race-touch-vs-rotate", false, raceTouchRotate},
	{"race-rotate-vs-revoke", false, raceRotateRevoke},
}

// raceRounds sessions are raced one after another, each by raceTouchers
// goroutines touching it with every = 0 (each touch writes) while end
// removes it.
const raceRounds, raceTouchers = 12, 4

// toucher touches id until stop is closed, at instants after start that
// only grow; ErrNotFound is expected once the session is gone.
func toucher(t *testing.T, h *harness, id string, start time.Time, touched *atomic.Int64, stop <-chan struct{}) {
	for i := 1; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		err := h.s.Touch(h.ctx, id, start.Add(time.Duration(i)*time.Millisecond), time.Hour, 0)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Touch during the race: %v", err)
			return
		}
		touched.Add(1)
	}
}

// race runs raceTouchers touchers on s, calls end once they have touched
// a few times, lets them go on a while, and stops them.
func race(t *testing.T, h *harness, s *store.Session, start time.Time, end func() error) error {
	var touched atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range raceTouchers {
		wg.Go(func() { toucher(t, h, s.ID, start, &touched, stop) })
	}
	waitFor(&touched, 2*raceTouchers)
	err := end()
	waitFor(&touched, touched.Load()+4*raceTouchers)
	close(stop)
	wg.Wait()
	return err
}

// waitFor waits until n reaches at least want, or a second has passed.
func waitFor(n *atomic.Int64, want int64) {
	deadline := time.Now().Add(time.Second)
	for n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
}

func raceTouches(t *testing.T, h *harness, what string, end func(*store.Session) error) {
	start := h.clock.Now()
	for round := range raceRounds {
		sub := "racer" + string(rune('a'+round))
		s := newSession(sub, start)
		id := h.create(t, s, 0)
		if err := race(t, h, s, start, func() error { return end(s) }); err != nil {
			t.Fatalf("%s during the race: %v", what, err)
		}
		// Read at an instant after every touch the race made.
		at := start.Add(time.Hour)
		if _, err := h.s.Get(h.ctx, id, at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: the session ended by %s while it was being touched reads as %v, want store.ErrNotFound: a touch brought it back", round, what, err)
		}
		for _, x := range h.list(t, sub, at) {
			if x.ID == id {
				t.Fatalf("round %d: List holds the session ended by %s", round, what)
			}
		}
	}
}

// raceTouchRotate: a touch racing a rotation must not undo it.
func raceTouchRotate(t *testing.T, h *harness) {
	start := h.clock.Now()
	for round := range raceRounds {
		s := newSession("alice", start)
		id := h.create(t, s, 0)
		r := rotation(s.RefreshHash, start, 5)
		if err := race(t, h, s, start, func() error { return h.s.Rotate(h.ctx, id, r, start) }); err != nil {
			t.Fatalf("Rotate during the race: %v", err)
		}
		got := h.get(t, id, start.Add(time.Minute))
		if !bytes.Equal(got.RefreshHash, r.RefreshHash) {
			t.Fatalf("round %d: after a Rotate raced by touches the refresh hash is not the new one: a touch undid the rotation", round)
		}
		if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], s.RefreshHash) {
			t.Fatalf("round %d: after a Rotate raced by touches Spent holds %d hashes, want the one rotated from", round, len(got.Spent))
		}
	}
}

// raceRotateRevoke: whichever of a rotation and a revocation comes first,
// the session ends revoked.
func raceRotateRevoke(t *testing.T, h *harness) {
	start := h.clock.Now()
	for round := range raceRounds * 2 {
		s := newSession("alice", start)
		id := h.create(t, s, 0)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		var rerr, verr error
		wg.Go(func() {
			<-begin
			rerr = h.s.Rotate(h.ctx, id, rotation(s.RefreshHash, start, 5), start)
		})
		wg.Go(func() {
			<-begin
			verr = h.s.Revoke(h.ctx, "alice", id)
		})
		close(begin)
		wg.Wait()
		if rerr != nil && !errors.Is(rerr, store.ErrNotFound) {
			t.Fatalf("Rotate racing Revoke = %v, want nil or store.ErrNotFound", rerr)
		}
		if verr != nil {
			t.Fatalf("Revoke racing Rotate: %v", verr)
		}
		h.absent(t, id, start, "a session revoked while it rotated")
		if t.Failed() {
			t.Fatalf("round %d: the rotation brought a revoked session back", round)
		}
	}
}
