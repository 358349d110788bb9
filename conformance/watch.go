package conformance

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// The rules of store.Watcher, run on stores that implement it. latch's
// session cache trusts these reports to refuse an ended session: a report
// that is missing or late lets a revoked token through on another
// instance.
var watchRules = []rule{
	{"watch-ready-first", needsWatch, watchReadyFirst},
	{"watch-reports-every-change", needsWatch, watchReports},
	{"watch-beat-follows-earlier-reports", needsWatch, watchBeatOrder},
	{"watch-ends-with-context", needsWatch, watchEnds},
	{"watch-invalid-beat-refused", needsWatch, watchInvalidBeat},
}

// ReportWithin is how soon a report must reach a watcher on another
// store value (WithTwin) after the change returned: the bound latch's
// session cache promises on loopback.
const ReportWithin = 100 * time.Millisecond

// watching is a Watch running on a store, with what it delivered.
type watching struct {
	mu      sync.Mutex
	changes []store.Change
	grew    chan struct{} // signalled on each change
	done    chan error    // Watch's return
	cancel  context.CancelFunc
}

// watcher returns the store the rules watch from: the twin (another
// process, as far as the backend can tell) when WithTwin gives one.
func (h *harness) watcher(t *testing.T) store.Watcher {
	t.Helper()
	if h.opts.twin == nil {
		t.Log("no WithTwin: the watcher shares the store value that makes the changes")
		return h.w
	}
	w, ok := h.opts.twin(t, h.s).(store.Watcher)
	if !ok {
		t.Fatal("WithTwin returned a store that does not implement store.Watcher")
	}
	return w
}

// watch starts Watch on w and waits for its ChangeReady.
func (h *harness) watch(t *testing.T, w store.Watcher) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	x := &watching{grew: make(chan struct{}, 1), done: make(chan error, 1), cancel: cancel}
	go func() {
		x.done <- w.Watch(ctx, func(c store.Change) {
			x.mu.Lock()
			x.changes = append(x.changes, c)
			x.mu.Unlock()
			select {
			case x.grew <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-x.done
	})
	x.await(t, 10*time.Second, "ChangeReady", func(c store.Change) bool { return c.Kind == store.ChangeReady })
	return x
}

// await waits up to within for a change that ok accepts, among those
// delivered since the last await, and returns its position.
func (x *watching) await(t *testing.T, within time.Duration, what string, ok func(store.Change) bool) int {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		x.mu.Lock()
		for i, c := range x.changes {
			if ok(c) {
				x.mu.Unlock()
				return i
			}
		}
		x.mu.Unlock()
		select {
		case <-x.grew:
		case err := <-x.done:
			t.Fatalf("Watch returned before %s: %v", what, err)
		case <-deadline.C:
			t.Fatalf("no %s reported within %s", what, within)
		}
	}
}

// reported returns a matcher of a report naming the session id, or its
// subject.
func reported(id, subject string) func(store.Change) bool {
	return func(c store.Change) bool {
		return c.Kind == store.ChangeSession && c.ID == id || c.Kind == store.ChangeSubject && c.ID == subject
	}
}

func watchReadyFirst(t *testing.T, h *harness) {
	x := h.watch(t, h.watcher(t))
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.changes[0].Kind != store.ChangeReady {
		t.Fatalf("first change delivered is %+v, want ChangeReady", x.changes[0])
	}
}

func watchReports(t *testing.T, h *harness) {
	x := h.watch(t, h.watcher(t))
	now := h.clock.Now()
	cases := []struct {
		name   string
		change func(t *testing.T, subject string) string // returns the session changed
	}{
		{"Revoke", func(t *testing.T, subject string) string {
			id := h.create(t, newSession(subject, now), 0)
			if err := h.s.Revoke(h.ctx, subject, id); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			return id
		}},
		{"RevokeSubject", func(t *testing.T, subject string) string {
			id := h.create(t, newSession(subject, now), 0)
			if _, err := h.s.RevokeSubject(h.ctx, subject, ""); err != nil {
				t.Fatalf("RevokeSubject: %v", err)
			}
			return id
		}},
		{"RevokeSubject-keep", func(t *testing.T, subject string) string {
			id := h.create(t, newSession(subject, now), 0)
			keep := h.create(t, newSession(subject, now.Add(time.Millisecond)), 0)
			if _, err := h.s.RevokeSubject(h.ctx, subject, keep); err != nil {
				t.Fatalf("RevokeSubject: %v", err)
			}
			return id
		}},
		{"Create-evicts", func(t *testing.T, subject string) string {
			old := h.create(t, newSession(subject, now), 0)
			h.create(t, newSession(subject, now.Add(time.Millisecond)), 1)
			return old
		}},
		{"Rotate", func(t *testing.T, subject string) string {
			s := newSession(subject, now)
			id := h.create(t, s, 0)
			r := store.Rotation{Old: s.RefreshHash, RefreshHash: randomHash(), SecretHash: randomHash(),
				AccessExpiresAt: now.Add(time.Minute), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
			if err := h.s.Rotate(h.ctx, id, r, now); err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			return id
		}},
		{"Freshen", func(t *testing.T, subject string) string {
			id := h.create(t, newSession(subject, now), 0)
			if err := h.s.Freshen(h.ctx, id, now.Add(time.Hour), now); err != nil {
				t.Fatalf("Freshen: %v", err)
			}
			return id
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subject := "watch-" + strings.ToLower(c.name)
			id := c.change(t, subject)
			x.await(t, ReportWithin, "report of the session changed by "+c.name, reported(id, subject))
		})
	}
}

func watchBeatOrder(t *testing.T, h *harness) {
	w := h.watcher(t)
	x := h.watch(t, w)
	now := h.clock.Now()
	subject := "watch-order"
	// Reports from several changes made through the store, then the
	// watcher's own beat (a beat is promised to the Watches of the store
	// value that sent it): the watcher must have each report before the
	// beat.
	var ids []string
	for range 5 {
		id := h.create(t, newSession(subject, now), 0)
		if err := h.s.Revoke(h.ctx, subject, id); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		ids = append(ids, id)
	}
	beat := "conformance-beat"
	if err := w.Beat(h.ctx, beat); err != nil {
		t.Fatalf("Beat: %v", err)
	}
	at := x.await(t, 10*time.Second, "the beat", func(c store.Change) bool { return c.Kind == store.ChangeBeat && c.ID == beat })
	x.mu.Lock()
	before := x.changes[:at]
	x.mu.Unlock()
	for _, id := range ids {
		found := false
		for _, c := range before {
			found = found || reported(id, subject)(c)
		}
		if !found {
			t.Errorf("the beat arrived before the report of a session revoked before Beat was called")
		}
	}
}

func watchEnds(t *testing.T, h *harness) {
	w := h.watcher(t)
	ctx, cancel := context.WithCancel(h.ctx)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, func(c store.Change) {
			if c.Kind == store.ChangeReady {
				close(ready)
			}
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch returned before ChangeReady: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no ChangeReady within 10s")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch after its context was cancelled returned %v, want an error wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return within 5s of its context's end")
	}
}

func watchInvalidBeat(t *testing.T, h *harness) {
	for _, id := range []string{"", "new\nline", strings.Repeat("b", store.MaxBeatLen+1), "é"} {
		err := h.w.Beat(h.ctx, id)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("Beat(%q) = %v, want an error that is neither ErrNotFound nor ErrConflict", clip(id), err)
		}
	}
	if err := h.w.Beat(h.ctx, strings.Repeat("b", store.MaxBeatLen)); err != nil {
		t.Errorf("Beat of %d bytes: %v", store.MaxBeatLen, err)
	}
}
