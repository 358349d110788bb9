package storekit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

func TestBackoff(t *testing.T) {
	b := storekit.Backoff{First: time.Millisecond, Max: 4 * time.Millisecond, Budget: 50 * time.Millisecond}
	ctx := context.Background()
	start := time.Now()
	var pauses []time.Duration
	for {
		at := time.Now()
		err := b.Wait(ctx)
		if errors.Is(err, storekit.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatalf("Wait = %v", err)
		}
		pauses = append(pauses, time.Since(at))
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want about the 50ms budget", d)
	}
	// Half a step at least: 0.5ms, then 1ms, then 2ms from the third on
	// (the step doubles up to 4ms). A loaded machine only lengthens them.
	for i, p := range pauses {
		if lo := []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond}[min(i, 2)]; p < lo {
			t.Errorf("pause %d = %v, below half its step (%v)", i, p, lo)
		}
	}
	if len(pauses) == 0 {
		t.Error("no pause before the budget was spent")
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	b = storekit.Backoff{First: time.Hour, Max: time.Hour}
	if err := b.Wait(done); err != context.Canceled {
		t.Errorf("Wait with a done context = %v, want context.Canceled at once", err)
	}
}
