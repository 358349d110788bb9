package storekit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

func TestSweeperOff(t *testing.T) {
	for _, every := range []time.Duration{0, -time.Second} {
		s := storekit.StartSweeper(every, func(context.Context) error {
			t.Error("a sweeper with interval <= 0 swept")
			return nil
		}, nil)
		if s != nil {
			t.Errorf("StartSweeper(%v) = %v, want nil", every, s)
		}
		s.Stop() // a nil Sweeper stops without panicking
	}
}

// TestSweeperReports: each sweep's error goes to the hook, and none after
// Stop returns.
func TestSweeperReports(t *testing.T) {
	var sweeps, reports atomic.Int64
	boom := errors.New("boom")
	got := make(chan error, 100)
	s := storekit.StartSweeper(time.Millisecond, func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("a sweep's context has no deadline")
		}
		sweeps.Add(1)
		return boom
	}, func(err error) {
		reports.Add(1)
		select {
		case got <- err:
		default:
		}
	})
	for range 3 {
		select {
		case err := <-got:
			if err != boom {
				t.Fatalf("reported %v, want the sweep's error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no sweep reported within 10s")
		}
	}
	s.Stop()
	n, r := sweeps.Load(), reports.Load()
	time.Sleep(20 * time.Millisecond)
	if sweeps.Load() != n || reports.Load() != r {
		t.Errorf("after Stop: %d more sweeps, %d more reports", sweeps.Load()-n, reports.Load()-r)
	}
	s.Stop() // again: returns at once
}

// TestSweeperStopInterrupts: Stop cancels the sweep under way, waits for
// it, and its error (the cancellation) is not reported.
func TestSweeperStopInterrupts(t *testing.T) {
	started, returned := make(chan struct{}), make(chan struct{})
	s := storekit.StartSweeper(time.Millisecond, func(ctx context.Context) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // Stop must wait for this
		close(returned)
		return ctx.Err()
	}, func(err error) { t.Errorf("reported %v: an interrupted sweep", err) })
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no sweep started within 10s")
	}
	s.Stop()
	select {
	case <-returned:
	default:
		t.Fatal("Stop returned before the sweep did")
	}
}
