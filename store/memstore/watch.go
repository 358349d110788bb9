package memstore

import (
	"context"
	"sync"

	"github.com/latchauth/latch/store"
)

var _ store.Watcher = (*Store)(nil)

// hub hands each change to every Watch of one Store, in order. A watcher
// that falls behind queues its changes: the queue holds what one process
// changed since the watcher last ran, never lost.
type hub struct {
	mu       sync.Mutex
	watchers map[*watcher]struct{}
}

type watcher struct {
	queue []store.Change
	wake  chan struct{} // one pending signal: the queue grew
}

// send queues c for every watcher.
func (h *hub) send(c store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		w.queue = append(w.queue, c)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// sendSessions reports the sessions xs as changed.
func (h *hub) sendSessions(xs ...*store.Session) {
	for _, x := range xs {
		h.send(store.Change{Kind: store.ChangeSession, ID: x.ID})
	}
}

// Watches reports true (see store.Watcher).
func (*Store) Watches() bool { return true }

// Watch implements store.Watcher: every change made through this Store
// (the one process that holds its sessions), reported as it is made. It
// returns ErrClosed once the Store is closed.
func (m *Store) Watch(ctx context.Context, fn func(store.Change)) error {
	if err := m.gate.Enter(ctx, "watch"); err != nil {
		return err
	}
	w := &watcher{wake: make(chan struct{}, 1)}
	m.hub.mu.Lock()
	if m.hub.watchers == nil {
		m.hub.watchers = map[*watcher]struct{}{}
	}
	m.hub.watchers[w] = struct{}{}
	m.hub.mu.Unlock()
	defer func() {
		m.hub.mu.Lock()
		delete(m.hub.watchers, w)
		m.hub.mu.Unlock()
	}()
	fn(store.Change{Kind: store.ChangeReady})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.closed:
			return m.gate.Enter(ctx, "watch")
		case <-w.wake:
		}
		m.hub.mu.Lock()
		q := w.queue
		w.queue = nil
		m.hub.mu.Unlock()
		for _, c := range q {
			fn(c)
		}
	}
}

// Beat implements store.Watcher.
func (m *Store) Beat(ctx context.Context, id string) error {
	if err := m.gate.EnterBeat(ctx, "beat", id); err != nil {
		return err
	}
	m.hub.send(store.Change{Kind: store.ChangeBeat, ID: id})
	return nil
}
