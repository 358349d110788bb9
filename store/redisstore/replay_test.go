package redisstore

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// cutter is a TCP proxy to a Redis server. Once armed with a needle, it
// forwards the first client write that holds it and then closes that
// connection before the server's reply comes back: the command ran, and
// the client sees a broken connection, which go-redis answers by sending
// the command again on another (MaxRetries).
type cutter struct {
	addr string
	mu   sync.Mutex
	arm  []byte
	cuts atomic.Int64
}

func newCutter(t *testing.T, upstream string) *cutter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutter{addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() { io.Copy(c, u); c.Close() })
			wg.Go(func() { p.forward(c, u) })
		}
	})
	return p
}

// armed makes the next client write holding needle the last of its
// connection.
func (p *cutter) armed(needle []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.arm = needle
}

func (p *cutter) forward(c, u net.Conn) {
	defer u.Close()
	buf := make([]byte, 1<<16)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hit := len(p.arm) > 0 && bytes.Contains(buf[:n], p.arm)
			if hit {
				p.arm = nil
			}
			p.mu.Unlock()
			if hit {
				// Close the client's side first, so that no byte of the
				// reply can reach it, then let the command reach the
				// server.
				c.Close()
				u.Write(buf[:n])
				p.cuts.Add(1)
				time.Sleep(20 * time.Millisecond) // the server runs it
				return
			}
			if _, err := u.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestReplay loses the reply of a Rotate and of a capped Create after
// Redis ran the script; go-redis sends the script again (MaxRetries,
// default 3), and the second run must report the first's success without
// writing anything again.
func TestReplay(t *testing.T) {
	p := newCutter(t, privateServer(t))
	c := closing(t, redis.NewClient(&redis.Options{Addr: p.addr})) // default retries
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for _, sc := range scripts { // EVALSHA from the start: no NOSCRIPT round
		if err := sc.Load(ctx, c).Err(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("rotate", func(t *testing.T) {
		x := session("zed", now)
		mustCreate(t, s, x, 0)
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), SecretHash: hash(),
			AccessExpiresAt: now.Add(time.Minute), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
		before := p.cuts.Load()
		p.armed(r.RefreshHash)
		if err := s.Rotate(ctx, x.ID, r, now); err != nil {
			t.Fatalf("Rotate whose first reply was lost = %v, want nil", err)
		}
		if p.cuts.Load() == before {
			t.Fatal("the proxy cut nothing")
		}
		g, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.RefreshHash, r.RefreshHash) || !bytes.Equal(g.SecretHash, r.SecretHash) {
			t.Errorf("stored hashes are not the rotation's")
		}
		if len(g.Spent) != 1 || !bytes.Equal(g.Spent[0], x.RefreshHash) {
			t.Errorf("spent hashes = %d, want the old hash once", len(g.Spent))
		}
		// A rotation from the same old hash to another new one still loses.
		r2 := r
		r2.RefreshHash = hash()
		if err := s.Rotate(ctx, x.ID, r2, now); err != store.ErrConflict {
			t.Errorf("a second rotation from the spent hash = %v, want ErrConflict", err)
		}
	})

	t.Run("capped create", func(t *testing.T) {
		const sub = "yan"
		var ids []string
		for i := range 2 {
			ids = append(ids, mustCreate(t, s, session(sub, now.Add(time.Duration(i)*time.Millisecond)), 0))
		}
		z := session(sub, now.Add(time.Second))
		before := p.cuts.Load()
		p.armed(z.RefreshHash)
		if err := s.Create(ctx, z, 2); err != nil {
			t.Fatalf("capped Create whose first reply was lost = %v, want nil", err)
		}
		if p.cuts.Load() == before {
			t.Fatal("the proxy cut nothing")
		}
		// The cap of 2 evicted the oldest once, and the replay neither
		// wrote a second session nor evicted again.
		l, err := s.List(ctx, sub, now.Add(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range l {
			got = append(got, x.ID)
		}
		if want := []string{z.ID, ids[1]}; !slices.Equal(got, want) {
			t.Errorf("List = %v, want %v", got, want)
		}
		if n, err := c.ZCard(ctx, s.indexKey(s.keys[0], sub)).Result(); err != nil || n != 2 {
			t.Errorf("the index holds %d members (%v), want 2", n, err)
		}
		var keys int
		for _, k := range keysOf(t, c, s.prefix) {
			if bytes.Contains([]byte(k), []byte(":s:")) {
				keys++
			}
		}
		if keys != 3 { // zed's, and yan's two
			t.Errorf("%d session keys, want 3", keys)
		}
	})
}
