// Package storetest wraps a store.Store for latch's own tests: a Probe
// counts the calls it receives, can be taken down or slowed like a backend
// in trouble, and shows every write to a hook.
package storetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/latchauth/latch/store"
)

// ErrDown is what a Probe that is down returns when its Err is nil: neither
// store.ErrNotFound nor store.ErrConflict, so latch treats it as an outage.
var ErrDown = errors.New("storetest: backend down")

// Calls is how many calls of each kind a Probe received.
type Calls struct {
	Create, Get, Touch, Freshen, Rotate, Revoke, RevokeSubject, List int
	// The store.Throttle calls.
	AddStrike, Strikes, ClearStrikes int
}

// Writes counts the calls that may change the stored state.
func (c Calls) Writes() int {
	return c.Create + c.Touch + c.Freshen + c.Rotate + c.Revoke + c.RevokeSubject + c.AddStrike + c.ClearStrikes
}

// Probe is a store.Store over Store, and a store.Throttle whose calls
// fail with ErrNoThrottle when Store is not one. Every call is counted, whether it
// succeeds or not; a write is shown to OnWrite before anything else
// happens to it. The zero value with Store set is ready to use; set Err
// and OnWrite before the first call.
type Probe struct {
	store.Store
	// Err is what every method returns while the probe is down; nil means
	// ErrDown.
	Err error
	// OnWrite, if set, sees the method name and arguments of every call
	// that may change the stored state (Create, Touch, Freshen, Rotate,
	// Revoke, RevokeSubject, AddStrike, ClearStrikes), down or not. It must be safe for concurrent use.
	OnWrite func(method string, args ...any)

	mu    sync.Mutex
	calls Calls
	down  bool
	delay time.Duration
}

var _ store.Throttle = (*Probe)(nil)

// ErrNoThrottle is what a Probe's store.Throttle methods return when the
// store it wraps does not implement store.Throttle.
var ErrNoThrottle = errors.New("storetest: the wrapped store does not implement store.Throttle")

// Calls returns the calls received since the start or the last Reset.
func (p *Probe) Calls() Calls { p.mu.Lock(); defer p.mu.Unlock(); return p.calls }

// Reset sets every count back to zero.
func (p *Probe) Reset() { p.mu.Lock(); defer p.mu.Unlock(); p.calls = Calls{} }

// SetDown takes the store down (every method fails with Err) or brings
// it back.
func (p *Probe) SetDown(down bool) { p.mu.Lock(); defer p.mu.Unlock(); p.down = down }

// SetDelay makes every method wait d, or until its ctx is done, before
// it does anything else, like a stalled backend that still honours its
// context. Zero ends the delay.
func (p *Probe) SetDelay(d time.Duration) { p.mu.Lock(); defer p.mu.Unlock(); p.delay = d }

// enter counts a call to method and shows a write to OnWrite, waits out
// the delay, and returns the error the call must fail with, if any.
func (p *Probe) enter(ctx context.Context, count *int, write bool, method string, args ...any) error {
	p.mu.Lock()
	*count++
	down, delay, err := p.down, p.delay, p.Err
	p.mu.Unlock()
	if write && p.OnWrite != nil {
		p.OnWrite(method, args...)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	if !down {
		return nil
	}
	if err == nil {
		return ErrDown
	}
	return err
}

func (p *Probe) Create(ctx context.Context, s *store.Session, max int) error {
	if err := p.enter(ctx, &p.calls.Create, true, "Create", s, max); err != nil {
		return err
	}
	return p.Store.Create(ctx, s, max)
}

func (p *Probe) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if err := p.enter(ctx, &p.calls.Get, false, "Get"); err != nil {
		return nil, err
	}
	return p.Store.Get(ctx, id, now)
}

func (p *Probe) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	if err := p.enter(ctx, &p.calls.Touch, true, "Touch", id, now, idle, every); err != nil {
		return err
	}
	return p.Store.Touch(ctx, id, now, idle, every)
}

func (p *Probe) Freshen(ctx context.Context, id string, until, now time.Time) error {
	if err := p.enter(ctx, &p.calls.Freshen, true, "Freshen", id, until, now); err != nil {
		return err
	}
	return p.Store.Freshen(ctx, id, until, now)
}

func (p *Probe) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if err := p.enter(ctx, &p.calls.Rotate, true, "Rotate", id, r, now); err != nil {
		return err
	}
	return p.Store.Rotate(ctx, id, r, now)
}

func (p *Probe) Revoke(ctx context.Context, subject, id string) error {
	if err := p.enter(ctx, &p.calls.Revoke, true, "Revoke", subject, id); err != nil {
		return err
	}
	return p.Store.Revoke(ctx, subject, id)
}

func (p *Probe) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if err := p.enter(ctx, &p.calls.RevokeSubject, true, "RevokeSubject", subject, keep); err != nil {
		return 0, err
	}
	return p.Store.RevokeSubject(ctx, subject, keep)
}

func (p *Probe) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := p.enter(ctx, &p.calls.List, false, "List"); err != nil {
		return nil, err
	}
	return p.Store.List(ctx, subject, now)
}

func (p *Probe) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if err := p.enter(ctx, &p.calls.AddStrike, true, "AddStrike", key, now, ttl); err != nil {
		return store.Strikes{}, err
	}
	t, ok := p.Store.(store.Throttle)
	if !ok {
		return store.Strikes{}, ErrNoThrottle
	}
	return t.AddStrike(ctx, key, now, ttl)
}

func (p *Probe) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	if err := p.enter(ctx, &p.calls.Strikes, false, "Strikes"); err != nil {
		return nil, err
	}
	t, ok := p.Store.(store.Throttle)
	if !ok {
		return nil, ErrNoThrottle
	}
	return t.Strikes(ctx, keys, now)
}

func (p *Probe) ClearStrikes(ctx context.Context, keys []string) error {
	if err := p.enter(ctx, &p.calls.ClearStrikes, true, "ClearStrikes", keys); err != nil {
		return err
	}
	t, ok := p.Store.(store.Throttle)
	if !ok {
		return ErrNoThrottle
	}
	return t.ClearStrikes(ctx, keys)
}
