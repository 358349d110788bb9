package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// serverEnv is what a server gets from the harness's flags besides the
// LATCH_* variables latch reads.
type serverEnv struct {
	redisURL string // the hand-written Redis baseline's server
	prefix   string // and its key prefix
}

// servers are the Go servers by -server name: each returns its handler of
// GET /protected and tokenCount tokens that pass it.
var servers = map[string]func(context.Context, serverEnv) (http.Handler, []string, error){
	"bare":         serveBare,
	"golang-jwt":   serveGolangJWT,
	"gin-jwt":      serveGinJWT,
	"echo-jwt":     serveEchoJWT,
	"jwtauth":      serveJWTAuth,
	"sha256-redis": serveSHA256Redis,
	"latch":        serveLatch,
}

// runServer prepares server name's tokens, writes them to tokensPath, and
// serves on a free loopback port until SIGINT or SIGTERM. It tells the
// harness on stdout: key=value lines, the last "listening=<address>".
func runServer(name, tokensPath string, env serverEnv) error {
	serve, ok := servers[name]
	if !ok {
		return fmt.Errorf("no server %q (have %s)", name, strings.Join(slices.Sorted(maps.Keys(servers)), ", "))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, toks, err := serve(ctx, env)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := os.WriteFile(tokensPath, []byte(strings.Join(toks, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Printf("listening=%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
