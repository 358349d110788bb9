package latch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/latchauth/latch/store"
)

// guarded is the Store as the rest of latch calls it, failing closed:
// every call runs under the store timeout, a panic becomes an error, and
// any failure but the store's ErrNotFound and ErrConflict is reported as a
// store_error event and returned as ErrUnavailable, so no caller can take
// a broken store for an answer.
//
// The answer never waits past the timeout, even for a store that ignores
// its context: lib/pq, for one, keeps reading a connection whose server
// stopped answering until TCP gives up, minutes later. Unless the store is
// store.Bounded, each call runs in a goroutine of its own, and at the
// timeout it is abandoned: it runs on until the store returns, and its
// result is dropped. Only what the call returns, never what it writes
// elsewhere, reaches the caller.
type guarded struct {
	s       store.Store
	timeout time.Duration
	bounded bool // the store returns once its context is done
	log     *slog.Logger
	report  func(context.Context, Event)
	// cache, when Config.SessionCache is on, serves Cached and is told of
	// every change this process makes, whatever the store answered.
	cache *sessionCache
}

func newGuarded(s store.Store, timeout time.Duration, log *slog.Logger, report func(context.Context, Event)) *guarded {
	b, ok := s.(store.Bounded)
	return &guarded{s: s, timeout: timeout, bounded: ok && b.Bounded(), log: log, report: report}
}

func (g *guarded) Create(ctx context.Context, s *store.Session, max int) error {
	if g.cache != nil && max > 0 {
		// The subject's oldest sessions may be evicted.
		defer g.cache.dropSubject(s.Subject)
	}
	return do0(ctx, g, func(ctx context.Context) error { return g.s.Create(ctx, s, max) })
}

// Get reads a session. An id of the wrong shape is ErrNotFound without a
// store call; a store that returns neither a session nor an error is
// broken, and fails closed.
func (g *guarded) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	s, err := do(ctx, g, func(ctx context.Context) (*store.Session, error) { return g.s.Get(ctx, id, now) })
	if err == nil && s == nil {
		return nil, g.fail(ctx, errors.New("store: Get returned neither a session nor an error"))
	}
	return s, err
}

// Cached is Get for checking an access token: with the session cache on,
// a cached session is returned without a store call, and a session read
// is cached. What it returns is shared: read it, never change it.
// Refresh and every write read with Get, never from the cache.
func (g *guarded) Cached(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if g.cache == nil {
		return g.Get(ctx, id, now)
	}
	if s := g.cache.get(id, now); s != nil {
		return s, nil
	}
	t := g.cache.begin()
	s, err := g.Get(ctx, id, now)
	g.cache.fill(t, id, s)
	return s, err
}

func (g *guarded) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	err := do0(ctx, g, func(ctx context.Context) error { return g.s.Touch(ctx, id, now, idle, every) })
	if g.cache != nil && err == nil {
		g.cache.touched(id, now, idle)
	}
	return err
}

func (g *guarded) Freshen(ctx context.Context, id string, until, now time.Time) error {
	defer g.dropSession(id)
	return do0(ctx, g, func(ctx context.Context) error { return g.s.Freshen(ctx, id, until, now) })
}

func (g *guarded) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	defer g.dropSession(id)
	return do0(ctx, g, func(ctx context.Context) error { return g.s.Rotate(ctx, id, r, now) })
}

func (g *guarded) Revoke(ctx context.Context, subject, id string) error {
	defer g.dropSession(id)
	return do0(ctx, g, func(ctx context.Context) error { return g.s.Revoke(ctx, subject, id) })
}

func (g *guarded) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if g.cache != nil {
		defer g.cache.dropSubject(subject)
	}
	return do(ctx, g, func(ctx context.Context) (int, error) { return g.s.RevokeSubject(ctx, subject, keep) })
}

// dropSession tells the cache, if there is one, that this process
// changed the session id. The change is made first: a read that began
// before it and ends after would otherwise cache what it replaced.
func (g *guarded) dropSession(id string) {
	if g.cache != nil {
		g.cache.dropSession(id)
	}
}

func (g *guarded) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	return do(ctx, g, func(ctx context.Context) ([]store.Session, error) { return g.s.List(ctx, subject, now) })
}

// throttle returns the store's store.Throttle, or an error naming the
// store when it has none: a program error (a 500), never a pass, logged
// at error level since an adapter answers it without saying why.
func (g *guarded) throttle(ctx context.Context) (store.Throttle, error) {
	if t, ok := g.s.(store.Throttle); ok {
		return t, nil
	}
	err := errNoThrottle(g.s)
	if g.log != nil {
		g.log.ErrorContext(ctx, err.Error())
	}
	return nil, err
}

func (g *guarded) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	t, err := g.throttle(ctx)
	if err != nil {
		return store.Strikes{}, err
	}
	s, err := do(ctx, g, func(ctx context.Context) (store.Strikes, error) { return t.AddStrike(ctx, key, now, ttl) })
	return s, g.strict(ctx, err)
}

// Strikes reads the records of keys. A store that returns another number
// of records than keys is broken, and fails closed.
func (g *guarded) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	t, err := g.throttle(ctx)
	if err != nil {
		return nil, err
	}
	s, err := do(ctx, g, func(ctx context.Context) ([]store.Strikes, error) { return t.Strikes(ctx, keys, now) })
	if err != nil {
		return nil, g.strict(ctx, err)
	}
	if len(s) != len(keys) {
		return nil, g.fail(ctx, fmt.Errorf("store: Strikes returned %d records for %d keys", len(s), len(keys)))
	}
	return s, nil
}

func (g *guarded) ClearStrikes(ctx context.Context, keys []string) error {
	t, err := g.throttle(ctx)
	if err != nil {
		return err
	}
	return g.strict(ctx, do0(ctx, g, func(ctx context.Context) error { return t.ClearStrikes(ctx, keys) }))
}

// strict fails closed on the ErrNotFound and ErrConflict that do lets
// through: no store.Throttle call answers with them.
func (g *guarded) strict(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return g.fail(ctx, err)
	}
	return err
}

// fail reports err as a store failure and returns it as ErrUnavailable.
func (g *guarded) fail(ctx context.Context, err error) error {
	err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	g.report(ctx, Event{Kind: EventStoreFailure, Err: err})
	return err
}

// do0 is do for a call that returns only an error.
func do0(ctx context.Context, g *guarded, op func(context.Context) error) error {
	_, err := do(ctx, g, func(ctx context.Context) (struct{}, error) { return struct{}{}, op(ctx) })
	return err
}

// do runs one store call under the store timeout (see guarded).
func do[T any](ctx context.Context, g *guarded, op func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	var res result[T]
	if g.bounded {
		res = run(ctx, g, op)
	} else {
		done := make(chan result[T], 1)
		go func() { done <- run(ctx, g, op) }()
		select {
		case res = <-done:
		case <-ctx.Done():
			select {
			case res = <-done: // it answered at the deadline: that answer stands
			default:
				res.err = fmt.Errorf("store: call abandoned: %w", ctx.Err())
			}
		}
	}
	if res.err == nil || errors.Is(res.err, store.ErrNotFound) || errors.Is(res.err, store.ErrConflict) {
		return res.v, res.err
	}
	var zero T
	return zero, g.fail(ctx, res.err)
}

// result is what a store call returned.
type result[T any] struct {
	v   T
	err error
}

// run calls op, turning a panic into an error and logging its stack.
func run[T any](ctx context.Context, g *guarded, op func(context.Context) (T, error)) (res result[T]) {
	defer func() {
		if r := recover(); r != nil {
			if g.log != nil {
				g.log.Error("latch: store panicked", "stack", string(debug.Stack()))
			}
			res = result[T]{err: storePanic(r)}
		}
	}()
	res.v, res.err = op(ctx)
	return res
}

// storePanic is the error for a store call that panicked. Only the
// panic's type and, for runtime errors, their message are kept: a store's
// own panic value could quote what it was handed.
func storePanic(r any) error {
	if re, ok := r.(runtime.Error); ok {
		return fmt.Errorf("store: panic: %w", re)
	}
	return fmt.Errorf("store: panic with a %T", r)
}
