package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// TestWalkthrough plays the scripted walkthrough: every answer must be
// the one in transcript.txt, which examples/gin and examples/echo are
// held to as well. Record it again with
//
//	go test -run TestWalkthrough -update-transcript
func TestWalkthrough(t *testing.T) { walkthroughtest.RunScript(t, walkthroughtest.FromRoutes(routes)) }

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "seed", routes) }

// TestPanicLogsNoToken: a panicking handler reaches net/http's server,
// which drops the connection and logs the panic without the request:
// nothing the request carried is logged.
func TestPanicLogsNoToken(t *testing.T) {
	logs := &walkthroughtest.SyncBuffer{}
	status, _ := walkthroughtest.PanicLogs(t, "seed", func(app *walkthrough.App) http.Handler {
		h := routes(app)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/panic" {
				panic("boom")
			}
			h.ServeHTTP(w, r)
		})
	}, logs)
	if status != 0 {
		t.Errorf("answer %d, want the connection dropped", status)
	}
}

// TestStartupHidesStorePassword starts the server with store URLs that
// cannot open: a scheme no package linked in registers, and each store
// that main links in, at a dead address.
func TestStartupHidesStorePassword(t *testing.T) {
	for name, u := range map[string]string{
		"store not linked in":   "memcached://:hunter2@cache.internal:11211",
		"postgres dead address": "postgres://latch:hunter2@127.0.0.1:1/latch?sslmode=disable&connect_timeout=2",
		"mysql dead address":    "mysql://latch:hunter2@127.0.0.1:1/latch?timeout=2s",
		"redis dead address":    "redis://:hunter2@127.0.0.1:1/0?dial_timeout=2s",
		"cluster dead address":  "redis+cluster://:hunter2@127.0.0.1:1?dial_timeout=2s",
		"mongo dead address":    "mongodb://latch:hunter2@127.0.0.1:1/latch?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000",
	} {
		t.Run(name, func(t *testing.T) {
			walkthroughtest.ClearLatchEnv(t)
			t.Setenv("LATCH_STORE", u)
			t.Setenv("LATCH_ADDR", "127.0.0.1:0")
			_, err := walkthrough.Start(context.Background(), "seed", slog.New(slog.DiscardHandler), routes)
			if err == nil {
				t.Fatal("started with a store that cannot open")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the store password", err)
			}
		})
	}
}
