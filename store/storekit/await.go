package storekit

import "context"

// Await runs op and returns its error, or ctx's error as soon as ctx is
// done, whichever comes first. It is for the start-up I/O of a store's
// Open (a ping, migrations) on drivers that do not watch the context
// while they connect: lib/pq reads a silent server's handshake until TCP
// gives up, go-redis waits out its dial and read timeouts. With Await, a
// program told to stop (SIGTERM) while it starts stops at once.
//
// When ctx wins, op runs on in its own goroutine until its driver gives
// up, and its result is dropped; the caller should close what op uses
// (the pool, the client), which also cuts op short where the driver
// allows.
func Await(ctx context.Context, op func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- op(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // it answered at the same moment: that answer stands
			return err
		default:
			return ctx.Err()
		}
	}
}
