package storekit

import (
	"context"
	"errors"
	"time"
)

// ErrExhausted is what Backoff.Wait returns once its budget is spent.
var ErrExhausted = errors.New("storekit: retry budget spent")

// Backoff paces the attempts of one call that lost a race to a
// concurrent one (a deadlock, a compare-and-swap that failed, a lock
// held): before each retry it pauses for a random time between half and
// all of a step that starts at First and doubles up to Max, so that
// contenders spread out. Use a new Backoff (a literal) for each call.
type Backoff struct {
	First, Max time.Duration
	// Budget bounds the time spent trying, from the first Wait; 0 leaves
	// it to the context.
	Budget time.Duration

	start time.Time
	step  time.Duration
}

// Wait pauses before the next attempt. It returns ctx.Err() when ctx is
// done first, and ErrExhausted, without pausing, once Budget has passed
// since the first Wait.
func (b *Backoff) Wait(ctx context.Context) error {
	if b.start.IsZero() {
		b.start, b.step = time.Now(), b.First
	} else {
		b.step = min(2*b.step, b.Max)
	}
	if b.Budget > 0 && time.Since(b.start) >= b.Budget {
		return ErrExhausted
	}
	t := time.NewTimer(b.step/2 + Jitter(b.step/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
