package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var listRules = []rule{
	{"list-newest-first-ties-by-id", plain, listOrder},
	{"list-1000-sessions", plain, listThousand},
	{"list-unknown-subject-is-empty", plain, listEmpty},
}

var capRules = []rule{
	{"cap-evicts-oldest", plain, capEvictsOldest},
	{"cap-never-evicts-the-new-session", plain, capKeepsNew},
	{"cap-counts-only-live-sessions", plain, capCountsLive},
	{"cap-scoped-by-subject", plain, capScoped},
	{"cap-atomic-under-32-concurrent-logins", plain, capConcurrent},
}

// byListOrder is the order List promises: CreatedAt descending, then ID
// ascending.
func byListOrder(a, b store.Session) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func listOrder(t *testing.T, h *harness) {
	start := h.clock.Now()
	var want []store.Session
	add := func(at time.Time) {
		s := newSession("alice", at)
		s.Device.Label = fmt.Sprintf("device %d", len(want))
		h.create(t, s, 0)
		want = append(want, *s)
	}
	add(start)
	tie := h.clock.Advance(time.Second)
	for range 6 {
		add(tie) // same CreatedAt: ordered by ID
	}
	add(h.clock.Advance(time.Second))
	add(h.clock.Advance(time.Millisecond)) // a millisecond apart still counts
	h.seed(t, 2, "bob")

	slices.SortFunc(want, byListOrder)
	got := h.list(t, "alice", h.clock.Now())
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("List order = %v, want %v (CreatedAt descending, then ID ascending)", ids(got), ids(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		w.Spent = nil
		sameSession(t, fmt.Sprintf("List[%d]", i), &g, &w)
	}
}

func listThousand(t *testing.T, h *harness) {
	const n, workers = 1000, 8
	start := h.clock.Now()
	all := make([]store.Session, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				// Three sessions per millisecond: ties on CreatedAt.
				s := newSession("alice", start.Add(time.Duration(i/3)*time.Millisecond))
				s.Device.Label = fmt.Sprintf("device %d", i)
				if err := h.s.Create(h.ctx, s, 0); err != nil {
					errs <- err
					return
				}
				all[i] = *s
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Create: %v", err)
	}
	h.seed(t, 3, "alice2", "bob")

	now := h.clock.Advance(time.Second)
	got := h.list(t, "alice", now)
	if len(got) != n {
		t.Fatalf("List of a subject with %d sessions returned %d", n, len(got))
	}
	slices.SortFunc(all, byListOrder)
	if !slices.Equal(ids(got), ids(all)) {
		t.Errorf("List of %d sessions is not in List order (CreatedAt descending, then ID ascending)", n)
	}
	for i := range got {
		if got[i].Subject != "alice" || got[i].Device != all[i].Device || !got[i].CreatedAt.Equal(all[i].CreatedAt) {
			t.Errorf("List[%d] = %q %+v created %s, want %q %+v created %s", i,
				got[i].Subject, got[i].Device, got[i].CreatedAt, "alice", all[i].Device, all[i].CreatedAt)
			break
		}
	}
}

func listEmpty(t *testing.T, h *harness) {
	h.seed(t, 2, "alice")
	for _, sub := range []string{"nobody", "", "alic", "alice%", "ALICE"} {
		if l := h.list(t, sub, h.clock.Now()); len(l) != 0 {
			t.Errorf("List(%q) = %v, want no sessions", sub, ids(l))
		}
	}
}

func capEvictsOldest(t *testing.T, h *harness) {
	var made []string
	for range 3 {
		made = append(made, h.create(t, newSession("alice", h.clock.Advance(time.Second)), 3))
	}
	// The oldest by CreatedAt goes first, however recently it was used.
	if err := h.s.Touch(h.ctx, made[0], h.clock.Advance(time.Second), time.Hour, 0); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	for range 2 {
		made = append(made, h.create(t, newSession("alice", h.clock.Advance(time.Second)), 3))
	}
	h.hasExactly(t, "alice", made[2:], "five logins with a cap of 3, the oldest used most recently")
	for _, id := range made[:2] {
		h.absent(t, id, h.clock.Now(), "a session evicted by the cap")
	}

	// Ties on CreatedAt: the greatest ID (the end of List's order) goes first.
	tie := h.clock.Advance(time.Second)
	var tied []string
	for range 4 {
		tied = append(tied, h.create(t, newSession("bob", tie), 0))
	}
	slices.Sort(tied)
	id := h.create(t, newSession("bob", h.clock.Advance(time.Second)), 3)
	h.hasExactly(t, "bob", []string{id, tied[0], tied[1]}, "a cap of 3 over four sessions created at one instant")
}

// capKeepsNew: the login being made always succeeds, even when its
// CreatedAt is older than the sessions it competes with.
func capKeepsNew(t *testing.T, h *harness) {
	start := h.clock.Now()
	later := h.create(t, newSession("alice", h.clock.Advance(10*time.Second)), 0)
	id := h.create(t, newSession("alice", start.Add(5*time.Second)), 1)
	h.hasExactly(t, "alice", []string{id}, "a cap of 1")
	h.absent(t, later, h.clock.Now(), "the other session under a cap of 1")
}

func capCountsLive(t *testing.T, h *harness) {
	start := h.clock.Now()
	dead := h.create(t, newSession("alice", start), 0) // idle at start+1h
	s := newSession("alice", h.clock.Advance(time.Minute))
	s.IdleUntil = s.CreatedAt.Add(10 * time.Hour)
	live := h.create(t, s, 0)
	id := h.create(t, newSession("alice", h.clock.Advance(2*time.Hour)), 2)
	h.hasExactly(t, "alice", []string{id, live}, "a cap of 2 with one session idle-expired")
	h.absent(t, dead, h.clock.Now(), "an idle-expired session")
}

func capScoped(t *testing.T, h *harness) {
	m := h.seed(t, 3, "bob", "alice2", "Alice")
	var last string
	for range 4 {
		last = h.create(t, newSession("alice", h.clock.Advance(time.Second)), 1)
	}
	h.hasExactly(t, "alice", []string{last}, "a cap of 1")
	for sub, want := range m {
		h.hasExactly(t, sub, want, "another subject after alice's capped logins")
	}
	many := h.seed(t, 20, "carol")
	h.hasExactly(t, "carol", many["carol"], "20 logins with no cap (max 0)")
}

// capConcurrent: 32 logins race under a cap of 4 while a watcher lists the
// sessions. No interleaving may leave more than 4 live, even for a moment.
// Each round logs a subject of its own in; the round raced when logins
// were in flight together and the watcher listed while one was.
func capConcurrent(t *testing.T, h *harness) {
	const logins, max = 32, 4
	bob := h.seed(t, 2, "bob")
	start := h.clock.Advance(time.Second)
	after := start.Add(time.Second) // after every login
	rounds(t, 1, func(round int) bool {
		sub := fmt.Sprintf("alice%d", round)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		errs := make([]error, logins)
		made := make([]string, logins)
		spans := make([]span, logins)
		for i := range logins {
			wg.Go(func() {
				<-begin
				s := newSession(sub, start.Add(time.Duration(i)*time.Millisecond))
				spans[i] = timed(func() { errs[i] = h.s.Create(h.ctx, s, max) })
				made[i] = s.ID
			})
		}
		done := make(chan struct{})
		var over int
		var listErr error
		var lists []span
		var watcher sync.WaitGroup
		watcher.Go(func() {
			<-begin
			for {
				var l []store.Session
				var err error
				lists = append(lists, timed(func() { l, err = h.s.List(h.ctx, sub, after) }))
				if err != nil {
					listErr = err
					return
				}
				if len(l) > max {
					over = len(l)
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
		close(begin)
		wg.Wait()
		close(done)
		watcher.Wait()

		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: login %d: Create = %v, want nil", round, i, err)
			}
		}
		if listErr != nil {
			t.Errorf("round %d: List during the race: %v", round, listErr)
		} else if len(lists) == 0 {
			t.Errorf("round %d: no List completed during the race", round)
		}
		if over > 0 {
			t.Errorf("round %d: a List during the race saw %d sessions under a cap of %d", round, over, max)
		}
		got := h.list(t, sub, after)
		if len(got) != max {
			t.Errorf("round %d: after %d concurrent logins with a cap of %d, %d sessions are live: %v", round, logins, max, len(got), ids(got))
		}
		for _, s := range got {
			if !slices.Contains(made, s.ID) {
				t.Errorf("round %d: List holds %s, which no login created", round, s.ID)
			}
		}
		return together(spans) && crossing(lists, spans)
	})
	h.hasExactly(t, "bob", bob["bob"], "another subject after the race")
}
