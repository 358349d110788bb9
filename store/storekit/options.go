package storekit

import (
	"errors"
	"fmt"
	"time"
)

// Options are the settings every store shares. A store keeps them in its
// own configuration type by embedding Options, which makes that type a
// Config, so the With functions of this package set them; its own
// options set the rest:
//
//	type config struct {
//		storekit.Options
//		prefix string
//	}
//
//	type Option func(*config) error
//
//	func WithErrorHook(f func(error)) Option { return storekit.WithErrorHook[*config](f) }
//
// A store uses only the settings that mean something to it and offers
// only their With functions: a store whose backend expires sessions by
// itself has no sweeper, and no sweep interval.
type Options struct {
	// ErrorHook gets the errors the store would otherwise drop: those of
	// its background work and of best-effort steps no caller waits for.
	// Nil discards them; a store never writes to a logger of its own.
	ErrorHook func(error)
	// Clock is the time of the store's own decisions, such as the
	// sweeper's now; every method of store.Store takes its now from the
	// caller instead. Nil means time.Now.
	Clock func() time.Time
	// SweepInterval is how often the sweeper runs; 0 runs none.
	SweepInterval time.Duration
	// SweepGrace is how long past its death a session survives a sweep,
	// so that a node whose clock runs ahead of the others' does not
	// delete sessions they still consider live.
	SweepGrace time.Duration
}

// Config is a store's configuration type (a pointer to it) with Options
// embedded. Only types that embed Options implement it.
type Config interface {
	options() *Options
}

func (o *Options) options() *Options { return o }

// Report passes err to the error hook, unless err or the hook is nil.
func (o *Options) Report(err error) {
	if err != nil && o.ErrorHook != nil {
		o.ErrorHook(err)
	}
}

// Now returns the time from Clock, or time.Now() without one.
func (o *Options) Now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}

// WithErrorHook returns an option that sets Options.ErrorHook (nil
// discards errors). Name its store's version the same.
func WithErrorHook[C Config](f func(error)) func(C) error {
	return func(c C) error {
		c.options().ErrorHook = f
		return nil
	}
}

// WithClock returns an option that sets Options.Clock; nil leaves it as
// it was.
func WithClock[C Config](now func() time.Time) func(C) error {
	return func(c C) error {
		if now != nil {
			c.options().Clock = now
		}
		return nil
	}
}

// WithSweepInterval returns an option that sets Options.SweepInterval,
// refusing a negative d.
func WithSweepInterval[C Config](d time.Duration) func(C) error {
	return nonNegative[C]("sweep interval", d, func(o *Options) { o.SweepInterval = d })
}

// WithSweepGrace returns an option that sets Options.SweepGrace, refusing
// a negative d.
func WithSweepGrace[C Config](d time.Duration) func(C) error {
	return nonNegative[C]("sweep grace", d, func(o *Options) { o.SweepGrace = d })
}

// nonNegative is an option that refuses a negative d, and otherwise sets
// it with set.
func nonNegative[C Config](what string, d time.Duration, set func(*Options)) func(C) error {
	return func(c C) error {
		if d < 0 {
			return errors.New("negative " + what)
		}
		set(c.options())
		return nil
	}
}

// Apply runs opts on c in order and returns the first refusal, as an
// error that wraps invalid (the store's ErrInvalid) and the option's own
// error. An option returns a plain error that says what is wrong with the
// value; Apply names the store.
func Apply[C any, O ~func(C) error](c C, invalid error, opts ...O) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return invalidErr(invalid, err)
		}
	}
	return nil
}

// invalidErr makes err wrap invalid, unless it does already or invalid is
// nil.
func invalidErr(invalid, err error) error {
	if invalid == nil || errors.Is(err, invalid) {
		return err
	}
	return fmt.Errorf("%w: %w", invalid, err)
}
