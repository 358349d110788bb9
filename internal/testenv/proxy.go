package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// proxyDialTimeout bounds the proxy's dial of its target.
const proxyDialTimeout = 5 * time.Second

// proxyState is what a Proxy does with traffic.
type proxyState int

const (
	forwarding proxyState = iota // bytes flow both ways
	dropped                      // no connection lives: open ones are reset, new ones reset at once
	stalled                      // connections stay open, nothing flows
)

// Proxy is a TCP proxy to one target, for tests that take a backend away
// from the code under test without touching the backend itself (other
// tests may be using it). It listens on 127.0.0.1 on a port of its own;
// point the client at Addr instead of the target, then:
//
//   - Drop models a backend that went away: every open connection is
//     reset (closed with SO_LINGER 0, so the client's next read or write
//     fails with ECONNRESET, not a clean EOF) and every new one is
//     accepted and reset at once, the way a crashed server or a restarting
//     load balancer behaves. A client may see that reset when it connects
//     (its dial fails with ECONNRESET, when the reset arrives before the
//     connect completes) or on its first read or write; either way it
//     never exchanges a byte with the target. The proxy keeps its port, so
//     nothing else can take the address while the backend is down, and
//     Restore needs no new listener.
//   - Stall models a blackhole (a network partition, a hung server): the
//     connections stay open, new ones are accepted (the kernel would
//     complete the TCP handshake anyway), and no byte goes either way, so
//     clients wait until their own timeouts fire. Nothing is lost: like
//     TCP retransmitting across a partition that heals, bytes sent during
//     a stall are delivered on Restore if their connection still stands,
//     so a command a client gave up on may still run then.
//   - Restore lets traffic flow again: stalled connections resume, and
//     new connections reach the target. Connections that Drop reset stay
//     gone; clients must reconnect.
//
// A new Proxy forwards. It is closed when the test ends (and may be
// closed earlier with Close); closing resets its connections, as Drop
// does, and waits for every goroutine it started. Its methods are safe
// for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	state  proxyState
	resume chan struct{} // closed by Restore (and Drop, Close) to release stalled pumps
	links  map[*link]struct{}
	closed bool
	// accepted counts the connections accepted, reset ones included.
	accepted int
}

// link is one client connection and its connection to the target.
type link struct {
	client, upstream net.Conn
	once             sync.Once
	done             chan struct{} // closed with the link
}

// NewProxy starts a proxy to target (host:port) on 127.0.0.1:0 and closes
// it when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy: %v", err)
	}
	p := &Proxy{target: target, ln: ln, resume: make(chan struct{}), links: map[*link]struct{}{}}
	close(p.resume) // forwarding: nothing waits
	p.wg.Go(p.accept)
	t.Cleanup(p.Close)
	return p
}

// Addr is the host:port clients should dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is how many connections the proxy has accepted so far, those
// it reset during a Drop included: a test can check with it that its
// client really goes through the proxy, not straight to the target.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Drop resets every open connection and every new one until Restore.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = dropped
	p.resetLinks()
}

// Stall holds every connection, open and new, without forwarding a byte
// until Restore (or Drop, which resets them).
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stalled || p.closed {
		return
	}
	p.state = stalled
	p.resume = make(chan struct{})
}

// Restore forwards again: stalled connections resume where they stopped,
// and new connections reach the target.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = forwarding
	p.release()
}

// Close stops the proxy: it stops listening, resets every connection and
// waits for its goroutines. Calling it again does nothing.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.resetLinks()
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// resetLinks resets every open link and only then releases the stalled
// pumps: a pump released first could find its link still open and close
// it cleanly, and the client would read EOF instead of the reset. p.mu
// must be held (resetting does not block: it closes sockets).
func (p *Proxy) resetLinks() {
	for l := range p.links {
		l.reset()
	}
	clear(p.links)
	p.release()
}

// release lets stalled pumps go on (to forward, or to find their link
// closed). p.mu must be held.
func (p *Proxy) release() {
	select {
	case <-p.resume:
	default:
		close(p.resume)
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		p.accepted++
		refuse := p.closed || p.state == dropped
		p.mu.Unlock()
		if refuse {
			resetConn(c)
			continue
		}
		p.wg.Go(func() { p.connect(c) })
	}
}

// connect dials the target for client c and pumps bytes both ways.
func (p *Proxy) connect(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, proxyDialTimeout)
	if err != nil {
		resetConn(c)
		return
	}
	l := &link{client: c, upstream: u, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed || p.state == dropped { // dropped while dialling
		p.mu.Unlock()
		l.reset()
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	p.wg.Go(func() { p.pump(l, u, c) })
	p.pump(l, c, u)
}

// pump copies src to dst, holding each chunk while the proxy stalls, and
// closes the link when either side ends.
func (p *Proxy) pump(l *link, dst, src net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
		l.close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection alike
		}
	}
}

// wait blocks while the proxy stalls; it reports whether l may forward.
func (p *Proxy) wait(l *link) bool {
	for {
		p.mu.Lock()
		state, resume := p.state, p.resume
		p.mu.Unlock()
		select {
		case <-l.done:
			return false
		default:
		}
		switch state {
		case forwarding:
			return true
		case dropped:
			return false
		}
		select {
		case <-resume:
		case <-l.done:
			return false
		}
	}
}

// close ends both connections of l, cleanly.
func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		l.client.Close()
		l.upstream.Close()
	})
}

// reset ends l with a TCP reset to the client; the target's side is
// closed in order, to spare the server's log.
func (l *link) reset() {
	l.once.Do(func() {
		close(l.done)
		resetConn(l.client)
		l.upstream.Close()
	})
}

// resetConn closes c with SO_LINGER 0, so its peer gets a reset rather
// than an orderly EOF.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
