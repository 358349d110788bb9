// Package memstore is an in-memory store.Store, for tests, demos and
// single-process applications. Sessions live in the memory of one process:
// they vanish when it exits, logging every user out on restart, and two
// processes never see each other's sessions.
//
// Importing the package registers the "memory" scheme, so
// store.Open(ctx, "memory:") returns a new, empty Store (see Open).
//
// Dead sessions (idle-expired or past their absolute expiry) read as
// absent at once. They are removed from memory when their subject next
// logs in (Create), when they are revoked, by Sweep, and by a full sweep
// that Create and AddStrike run after as many of them as there are
// sessions and strike records (at least 1024): memory stays bounded
// without a goroutine, at the price of one O(all sessions and records)
// pass now and then. Call Sweep from a timer to spread that cost.
//
// Store implements store.Throttle: its strike records, expired ones
// removed by the same sweeps, are those of one process, like its
// sessions.
package memstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

func init() {
	storekit.Register(Open, "memory")
}

var _ store.Bounded = (*Store)(nil)

// Bounded reports true: no call waits on anything but a short lock (see
// store.Bounded).
func (*Store) Bounded() bool { return true }

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrClosed is returned by every call on a Store after Close.
	ErrClosed = errors.New("memstore: store closed")
	// ErrInvalid: a URL that Open does not take.
	ErrInvalid = errors.New("memstore: invalid value")
)

// Store is an in-memory store.Store, safe for concurrent use by many
// goroutines of one process. Create one with New (or Open).
type Store struct {
	clock func() time.Time
	gate  storekit.Gate

	mu sync.Mutex
	// sessions maps id to session. A stored *Session is never modified in
	// place (updates store a modified copy), so readers may copy it out
	// after unlocking.
	sessions map[string]*store.Session
	// bySubject maps subject to the ids of its sessions.
	bySubject map[string]map[string]struct{}
	// strikes maps a store.Throttle key to its record.
	strikes map[string]strikes
	// sinceSweep counts Creates and AddStrikes since the last full sweep.
	sinceSweep int

	hub    hub           // the changes Watch reports
	closed chan struct{} // closed by Close, ending every Watch
}

// Option configures a Store, in the style of every store of latch.
type Option func(*config) error

type config struct{ storekit.Options }

// WithClock sets the clock used where the store.Store contract passes no
// now: it decides which of the sessions RevokeSubject deletes count as
// live, and caps the time at which Create's periodic sweep judges
// sessions dead. The default is time.Now; nil keeps it.
func WithClock(now func() time.Time) Option { return storekit.WithClock[*config](now) }

// New returns an empty Store. It cannot fail: no option of this package
// refuses a value.
func New(opts ...Option) *Store {
	var c config
	if err := storekit.Apply(&c, ErrInvalid, opts...); err != nil {
		panic(err) // unreachable: see above
	}
	return &Store{
		gate:      storekit.Gate{Store: "memstore", ErrClosed: ErrClosed, ErrInvalid: ErrInvalid},
		clock:     c.Now,
		sessions:  map[string]*store.Session{},
		bySubject: map[string]map[string]struct{}{},
		strikes:   map[string]strikes{},
		closed:    make(chan struct{}),
	}
}

var urls = &storekit.URLSpec{Store: "memstore", Schemes: []string{"memory"}, Invalid: ErrInvalid}

// Open returns a new, empty Store for the URL memory: (in any case, with
// anything after the colon but a latch_ query parameter, which is
// ErrInvalid): two Opens are two stores. Importing the package registers
// Open for store.Open. Its Close drops every session.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	if _, err := storekit.Configure(urls, rawURL, &config{}, nil, opts...); err != nil {
		return nil, err
	}
	return New(opts...), nil
}

// Close drops every session and makes every later call fail with
// ErrClosed, as a closed database client would: a request checked after
// shutdown gets an outage, never "not found". Auth.Close calls it for a
// store opened from the memory: URL. It is idempotent.
func (m *Store) Close() error {
	return m.gate.Close(func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.sessions = map[string]*store.Session{}
		m.bySubject = map[string]map[string]struct{}{}
		m.strikes = map[string]strikes{}
		close(m.closed)
		return nil
	})
}
