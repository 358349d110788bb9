package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/latchauth/latch/internal/testenv"
)

// TestServers builds this command, starts a few of the load table's
// servers as the harness does, and checks that each answers GET /protected
// with 200 for one of its tokens and 401 without one. No timing: it keeps
// the harness from rotting.
func TestServers(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "loadtest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	executable = func() (string, error) { return bin, nil }
	tokenCount = 20
	byName := map[string]row{}
	for _, r := range rows() {
		byName[r.name] = r
	}
	for _, name := range []string{"golang-jwt", "latch-jwt", "latch-opaque-redis"} {
		t.Run(name, func(t *testing.T) {
			r := byName[name]
			var b backends
			if r.store == "redis" {
				b.redisAddr = testenv.RedisAddr(t)
			}
			ctx := context.Background()
			s, err := start(ctx, r, b, t.TempDir())
			if s != nil {
				t.Cleanup(func() {
					s.stop()
					if s.cleanup != nil {
						if err := s.cleanup(ctx); err != nil {
							t.Errorf("cleanup: %v", err)
						}
					}
				})
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := firstToken(s.tokens)
			if err != nil {
				t.Fatal(err)
			}
			if err := check(ctx, s.addr, tok, true); err != nil {
				t.Error(err)
			}
		})
	}
}
