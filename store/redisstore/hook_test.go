package redisstore

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestErrorHook: the best-effort steps that follow a TRYAGAIN during a
// slot migration (Revoke's read of the session, List's clean-up of the
// members whose sessions are gone) report their failures to the error
// hook, and the call fails with its own TRYAGAIN, as without a hook. The
// failures are injected into the client, after a real migration has made
// Redis answer TRYAGAIN.
func TestErrorHook(t *testing.T) {
	a, b := privateCluster(t)
	ctx := context.Background()
	c := closing(t, redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{a.Options().Addr, b.Options().Addr}, ContextTimeoutEnabled: true,
	}))
	var mu sync.Mutex
	var reported []error
	s, err := New(c, WithErrorHook(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	x, y := session("alice", now), session("alice", now)
	mustCreate(t, s, x, 0)
	mustCreate(t, s, y, 0)

	// Move x's key alone to the other master, as a reshard does.
	slot, err := a.ClusterKeySlot(ctx, s.sessionKey(x.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, dst := a, b
	if slot >= 8192 {
		src, dst = b, a
	}
	srcID, dstID := src.Do(ctx, "CLUSTER", "MYID").Val(), dst.Do(ctx, "CLUSTER", "MYID").Val()
	if err := dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err(); err != nil {
		t.Fatal(err)
	}
	if err := src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err(); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(dst.Options().Addr)
	if err := src.Migrate(ctx, host, port, s.sessionKey(x.ID), 0, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}

	c.AddHook(failing{"get": true, "exists": true})
	for _, step := range []struct {
		name, report string
		do           func() error
	}{
		{"Revoke", "revoke: reading the session after TRYAGAIN", func() error { return s.Revoke(ctx, "alice", x.ID) }},
		{"List", "list: pruning members of gone sessions", func() error { _, err := s.List(ctx, "alice", now); return err }},
	} {
		mu.Lock()
		reported = nil
		mu.Unlock()
		if err := step.do(); err == nil || !strings.Contains(err.Error(), "TRYAGAIN") {
			t.Errorf("%s = %v, want its TRYAGAIN", step.name, err)
		}
		mu.Lock()
		if len(reported) != 1 || !strings.Contains(reported[0].Error(), step.report) || !errors.Is(reported[0], errInjected) {
			t.Errorf("%s: the hook got %v, want one error on %q", step.name, reported, step.report)
		}
		mu.Unlock()
	}
}

var errInjected = errors.New("injected failure")

// failing is a go-redis hook that fails the commands it names before
// they are sent.
type failing map[string]bool

func (f failing) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f failing) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f[cmd.Name()] {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (f failing) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
