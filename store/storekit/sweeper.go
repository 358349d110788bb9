package storekit

import (
	"context"
	"sync"
	"time"
)

// Sweeper runs a store's sweep in a goroutine of its own, every interval,
// until Stop. Dead sessions already read as absent; a sweep only frees
// the space they hold.
type Sweeper struct {
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// StartSweeper calls sweep every interval, first one interval from now,
// and passes each error it returns to report (nil discards them). It
// returns nil, and starts nothing, when every <= 0; a nil *Sweeper's Stop
// does nothing.
//
// Each sweep gets a context that Stop cancels, bounded by the interval,
// and by at least a minute: a slow sweep delays the next one rather than
// piling up. A sweep that Stop interrupted is not reported, so a store
// that calls Stop from its Close never reports its own shutdown. report
// is called from the sweeper's goroutine, one call at a time.
func StartSweeper(every time.Duration, sweep func(ctx context.Context) error, report func(error)) *Sweeper {
	if every <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sweeper{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			sctx, scancel := context.WithTimeout(ctx, max(every, time.Minute))
			err := sweep(sctx)
			scancel()
			if ctx.Err() != nil {
				return // Stop interrupted the sweep: not an error to report
			}
			if err != nil && report != nil {
				report(err)
			}
		}
	}()
	return s
}

// Stop cancels the sweep under way, if any, and returns once the
// goroutine has: no sweep runs and nothing is reported after Stop
// returns. It may be called more than once, and on a nil *Sweeper.
func (s *Sweeper) Stop() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.stop()
		<-s.done
	})
}
