package storekit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

// TestAwait: op's answer when it comes first; ctx's error, at once, when
// ctx is done first, even though op ignores it; no call at all on a done
// ctx.
func TestAwait(t *testing.T) {
	errOp := errors.New("op failed")
	if err := storekit.Await(context.Background(), func(context.Context) error { return errOp }); err != errOp {
		t.Errorf("op first: %v, want op's error", err)
	}
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() { <-started; cancel() }()
	begin := time.Now()
	err := storekit.Await(ctx, func(context.Context) error {
		close(started)
		<-release // a driver that ignores its context
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ctx first: %v, want context.Canceled", err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Await took %v after the cancel", took)
	}
	called := false
	if err := storekit.Await(ctx, func(context.Context) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("done ctx: %v, op called %t; want context.Canceled and no call", err, called)
	}
}
