//go:build unix

package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// runMainEnv makes the test binary run the seed's main instead of its
// tests, so that a test can start the seed as a process of its own, built
// as the test is (with -race under -race), without a go build.
const runMainEnv = "LATCH_SEED_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// signalBound is how long the seed may take to exit after SIGTERM while
// it opens a store that never answers: a couple of seconds, with room for
// a loaded machine under -race. Without the signal each driver would wait
// for its own timeouts (30 s and more).
const signalBound = 3 * time.Second

// TestSignalDuringStartup starts the seed against each networked store
// at an address that accepts connections and never answers, sends SIGTERM
// once the store is being opened, and checks that the seed exits at once
// with an error saying so, without the store's password.
func TestSignalDuringStartup(t *testing.T) {
	for _, c := range []struct{ name, url string }{
		{"mongodb", "mongodb://latch:hunter2@%s/latch"},
		{"redis", "redis://:hunter2@%s/0"},
		{"redis+cluster", "redis+cluster://:hunter2@%s"},
		{"postgres", "postgres://latch:hunter2@%s/latch?sslmode=disable"},
		{"mysql", "mysql://latch:hunter2@%s/latch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, accepted := silentServer(t)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(environWithoutLatch(), runMainEnv+"=1",
				"LATCH_STORE="+strings.Replace(c.url, "%s", addr, 1),
				"LATCH_ADDR=127.0.0.1:0", "LATCH_DATA_DIR="+t.TempDir())
			stderr := &walkthroughtest.SyncBuffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var err error
			exited := make(chan struct{})
			go func() { err = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			select {
			case <-accepted:
			case <-exited:
				t.Fatalf("the seed exited before it reached the store: %v\n%s", err, stderr)
			case <-time.After(30 * time.Second):
				t.Fatalf("the seed never connected to the store\n%s", stderr)
			}
			time.Sleep(200 * time.Millisecond) // well into the store's Open
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(signalBound):
				t.Fatalf("still starting %v after SIGTERM\n%s", signalBound, stderr)
			}
			took := time.Since(sent)
			t.Logf("exited %v after SIGTERM: %s", took.Round(time.Millisecond), strings.TrimSpace(stderr.String()))
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1", err)
			}
			out := stderr.String()
			if !strings.HasPrefix(out, "seed: interrupted while starting: ") || !strings.Contains(out, "context canceled") {
				t.Errorf("stderr %q, want one line saying the start was interrupted", out)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("stderr %q shows the store password", out)
			}
		})
	}
}

// silentServer listens on a loopback port, accepts every connection and
// never answers on it, like a store host whose server hangs. accepted is
// closed at the first connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if conns == nil {
				close(ch)
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), ch
}

// environWithoutLatch is the environment without any LATCH_ variable.
func environWithoutLatch() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCH_") {
			env = append(env, kv)
		}
	}
	return env
}
