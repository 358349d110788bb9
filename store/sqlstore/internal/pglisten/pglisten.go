// Package pglisten subscribes to PostgreSQL notifications with lib/pq, for
// sqlstore/postgres (which registers Listen as its driver's) and for
// sqlstore's own tests, which cannot import that package.
package pglisten

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/lib/pq"
)

// pingEvery is how often listen pings its connection: a server that
// stopped answering ends the listen within two of these.
const pingEvery = 15 * time.Second

// Listen implements sqldriver.Driver.Listen with a lib/pq ListenerConn,
// which, unlike pq.Listener, never reconnects behind its caller's back: a
// failed connection ends listen, and the caller learns that
// notifications may have been lost.
func Listen(ctx context.Context, u *url.URL, channel string, ready func(), fn func(string)) error {
	notes := make(chan *pq.Notification, 64)
	type dialed struct {
		lc  *pq.ListenerConn
		err error
	}
	dial := make(chan dialed, 1)
	go func() {
		lc, err := pq.NewListenerConn(u.String(), notes)
		dial <- dialed{lc, err}
	}()
	var lc *pq.ListenerConn
	select {
	case d := <-dial:
		if d.err != nil {
			return d.err
		}
		lc = d.lc
	case <-ctx.Done():
		go func() {
			if d := <-dial; d.lc != nil {
				d.lc.Close()
			}
		}()
		return ctx.Err()
	}
	defer lc.Close()
	stop := context.AfterFunc(ctx, func() { lc.Close() })
	defer stop()
	if _, err := lc.Listen(channel); err != nil {
		return err
	}
	ready()
	// Pings run beside the loop: a ping waits for its reply behind any
	// notification the connection has yet to hand over.
	pinged := make(chan error, 1)
	go func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A ping unanswered by the next tick closes the
				// connection: lib/pq waits on a silent server until TCP
				// gives up.
				silent := time.AfterFunc(pingEvery, func() { lc.Close() })
				err := lc.Ping()
				if !silent.Stop() && err == nil {
					err = errors.New("the server did not answer a ping")
				}
				if err != nil {
					pinged <- err
					lc.Close()
					return
				}
			}
		}
	}()
	for {
		select {
		case n, ok := <-notes:
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				select {
				case err := <-pinged:
					return err
				default:
				}
				if err := lc.Err(); err != nil {
					return err
				}
				return errors.New("the listening connection closed")
			}
			fn(n.Extra)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
