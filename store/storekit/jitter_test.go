package storekit_test

import (
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

func TestJitter(t *testing.T) {
	for _, n := range []time.Duration{-1, 0} {
		if d := storekit.Jitter(n); d != 0 {
			t.Errorf("Jitter(%v) = %v, want 0", n, d)
		}
	}
	if d := storekit.Jitter(1); d != 0 {
		t.Errorf("Jitter(1) = %v, want 0", d)
	}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := storekit.Jitter(8 * time.Millisecond)
		if d < 0 || d >= 8*time.Millisecond {
			t.Fatalf("Jitter(8ms) = %v, outside [0, 8ms)", d)
		}
		seen[d] = true
	}
	if len(seen) < 900 { // 1000 draws from 8e6 values: repeats are rare
		t.Errorf("Jitter(8ms) gave %d distinct values in 1000 draws", len(seen))
	}
}
