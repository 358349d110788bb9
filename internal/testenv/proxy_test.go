package testenv

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer echoes every connection until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(c, c); c.Close() })
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg to c and reads len(msg) bytes back within wait.
func roundTrip(c net.Conn, msg string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

// mustEcho fails t unless c echoes msg.
func mustEcho(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if got, err := roundTrip(c, msg, 2*time.Second); err != nil || got != msg {
		t.Fatalf("echo of %q = %q, %v; want it back", msg, got, err)
	}
}

// mustBeCut fails t unless the proxy reset c, as Drop and Close promise:
// the first of a write and a read that fails must fail with ECONNRESET,
// promptly. (Once a socket has reported its reset, it reads EOF, so only
// the first failure tells a reset from a clean close.)
func mustBeCut(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte("x")); err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("write to a dropped connection: %v, want ECONNRESET", err)
		}
		return
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read from a dropped connection: %v, want ECONNRESET", err)
	}
}

// mustDialCut dials addr while the proxy drops and fails t unless the
// connection is reset: at connect time (the reset may arrive before the
// connect completes) or on its first read or write.
func mustDialCut(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial during a drop: %v, want success or ECONNRESET", err)
		}
		return
	}
	defer c.Close()
	mustBeCut(t, c)
}

func TestProxy(t *testing.T) {
	t.Run("forwards", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		a, b := dial(t, p.Addr()), dial(t, p.Addr())
		mustEcho(t, a, "hello")
		mustEcho(t, b, "world")
		mustEcho(t, a, string(make([]byte, 200<<10))) // larger than a pump's buffer
	})

	t.Run("counts accepted connections", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		if n := p.Accepted(); n != 0 {
			t.Fatalf("Accepted() = %d before any connection, want 0", n)
		}
		mustEcho(t, dial(t, p.Addr()), "one")
		mustEcho(t, dial(t, p.Addr()), "two")
		if n := p.Accepted(); n != 2 {
			t.Fatalf("Accepted() = %d after two connections, want 2", n)
		}
		p.Drop()
		mustDialCut(t, p.Addr())
		if n := p.Accepted(); n != 3 {
			t.Errorf("Accepted() = %d after a connection reset during a drop, want 3", n)
		}
	})

	t.Run("drop resets open and new connections", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		open := dial(t, p.Addr())
		mustEcho(t, open, "up")
		p.Drop()
		mustBeCut(t, open)
		mustDialCut(t, p.Addr())
		p.Drop() // twice is harmless
		p.Restore()
		mustEcho(t, dial(t, p.Addr()), "back")
	})

	t.Run("stall holds bytes until restore", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		open := dial(t, p.Addr())
		mustEcho(t, open, "up")
		p.Stall()
		p.Stall() // twice is harmless
		if got, err := roundTrip(open, "held", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("open connection during a stall: %q, %v; want a timeout", got, err)
		}
		fresh := dial(t, p.Addr()) // the handshake completes: the kernel accepts
		if got, err := roundTrip(fresh, "new!", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("new connection during a stall: %q, %v; want a timeout", got, err)
		}
		p.Restore()
		// Nothing was lost: what was sent during the stall arrives now.
		for _, c := range []struct {
			conn net.Conn
			held string
		}{{open, "held"}, {fresh, "new!"}} {
			c.conn.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, len(c.held))
			if _, err := io.ReadFull(c.conn, buf); err != nil || string(buf) != c.held {
				t.Fatalf("after Restore read %q, %v; want %q", buf, err, c.held)
			}
			c.conn.SetDeadline(time.Time{})
			mustEcho(t, c.conn, "flowing")
		}
	})

	t.Run("drop during a stall resets the held connections", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		open := dial(t, p.Addr())
		mustEcho(t, open, "up")
		p.Stall()
		roundTrip(open, "held", 100*time.Millisecond)
		p.Drop()
		mustBeCut(t, open)
		p.Restore()
		mustEcho(t, dial(t, p.Addr()), "back")
	})

	t.Run("close ends every goroutine", func(t *testing.T) {
		target := echoServer(t)
		before := runtime.NumGoroutine()
		p := NewProxy(t, target)
		var conns []net.Conn
		for range 5 {
			c := dial(t, p.Addr())
			mustEcho(t, c, "x")
			conns = append(conns, c)
		}
		p.Stall()
		for _, c := range conns[:2] {
			c.Write([]byte("held")) // pumps now wait on the stall
		}
		p.Close()
		p.Close() // twice is harmless
		for _, c := range conns {
			mustBeCut(t, c)
		}
		// The echo server's goroutines for these connections end too, once
		// it reads their EOF; allow them a moment.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines after Close, %d before:\n%s",
					runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
		if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
			c.Close()
			t.Error("a closed proxy still accepts connections")
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		p := NewProxy(t, echoServer(t))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
					if err != nil {
						continue
					}
					roundTrip(c, "ping", 50*time.Millisecond) // any outcome
					c.Close()
				}
			})
		}
		for range 20 {
			p.Stall()
			time.Sleep(5 * time.Millisecond)
			p.Drop()
			time.Sleep(5 * time.Millisecond)
			p.Restore()
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		mustEcho(t, dial(t, p.Addr()), "still works")
	})
}
