//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/latchauth/latch/examples/internal/e2e"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// TestSessionCacheTwoProcesses: two seed processes share one store, each
// with LATCH_SESSION_CACHE=30s. A session logged out on one is refused by
// the other within 100 ms, although the other had it cached and could
// otherwise trust its cache for 30 s; the one that made the change
// refuses it at once. On every backend that reports its changes, in
// opaque mode and in jwt mode with session checks.
func TestSessionCacheTwoProcesses(t *testing.T) {
	for _, name := range e2e.WatchingStores {
		for _, mode := range []string{"opaque", "jwt"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				u := e2e.StoreURL(t, name)
				env := []string{
					"LATCH_STORE=" + u, "LATCH_MODE=" + mode, "LATCH_SESSION_CACHE=30s",
					"LATCH_SESSION_CHECK=true",
					"LATCH_SESSION_KEY=VCeNMHeMu0RMIkuQab1Xbl6sjlS/fgC0uaXp5nK0830=",
					"LATCH_JWT_SECRET=qKGYk5c6NE8Tn4bHBM7mVCFMt4gDeH4NfXb6HkWe0Ow=",
				}
				a, b := startSeed(t, env), startSeed(t, env)
				tok := loginAt(t, a)
				for _, srv := range []string{a, b, b} {
					if code := get(t, srv, "/protected", tok); code != http.StatusOK {
						t.Fatalf("GET /protected at %s: %d before the logout", srv, code)
					}
				}
				if code := post(t, a, "/logout", tok); code != http.StatusOK {
					t.Fatalf("POST /logout: %d", code)
				}
				if code := get(t, a, "/protected", tok); code != http.StatusUnauthorized {
					t.Errorf("the process that logged out answers %d, want 401", code)
				}
				start := time.Now()
				for get(t, b, "/protected", tok) != http.StatusUnauthorized {
					if time.Since(start) > 100*time.Millisecond {
						t.Fatalf("the other process still accepts the session %s after the logout", time.Since(start))
					}
					time.Sleep(2 * time.Millisecond)
				}
				t.Logf("the other process refused it %s after the logout", time.Since(start))
			})
		}
	}
}

// startSeed starts the seed as a process of its own with env, and returns
// its base URL once it answers; it is killed when t ends.
func startSeed(t *testing.T, env []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(environWithoutLatch(), runMainEnv+"=1", "LATCH_ADDR="+addr, "LATCH_DATA_DIR="+t.TempDir()), env...)
	stderr := &walkthroughtest.SyncBuffer{}
	cmd.Stderr, cmd.Stdout = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := http.Get(base + "/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the seed exited: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seed did not answer within 60s\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loginAt logs the walkthrough's user in at srv and returns the access
// token.
func loginAt(t *testing.T, srv string) string {
	t.Helper()
	r, err := http.Post(srv+"/login", "application/json", bytes.NewReader([]byte(`{"username":"test","password":"test"}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("login: %d, %v", r.StatusCode, err)
	}
	return body.AccessToken
}

func get(t *testing.T, srv, path, tok string) int  { return call(t, "GET", srv, path, tok) }
func post(t *testing.T, srv, path, tok string) int { return call(t, "POST", srv, path, tok) }

func call(t *testing.T, method, srv, path, tok string) int {
	t.Helper()
	req, err := http.NewRequest(method, srv+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}
