package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// running is a started server.
type running struct {
	addr   string
	tokens string // the tokens file
	notes  map[string]string
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	log    string        // the server's stderr
	// cleanup deletes what the server left in its backend.
	cleanup func(context.Context) error
}

// executable is the binary whose -server flag runs the servers: this one
// (a test builds its own).
var executable = os.Executable

// startTimeout bounds a server's start: its logins or inserts included.
const startTimeout = 5 * time.Minute

// start starts r's server with its tokens and data under dir, and waits
// until it listens.
func start(ctx context.Context, r row, b backends, dir string) (*running, error) {
	if r.server == "flask" {
		return startFlask(ctx, dir)
	}
	self, err := executable()
	if err != nil {
		return nil, err
	}
	s := &running{tokens: filepath.Join(dir, r.name+".tokens"), log: filepath.Join(dir, r.name+".log")}
	args := []string{"-server", r.server, "-tokens", s.tokens, "-sessions", fmt.Sprint(tokenCount)}
	env := cleanEnv()
	switch {
	case r.server == "sha256-redis":
		prefix := newPrefix(":")
		args = append(args, "-redis", b.redisURL(), "-prefix", prefix)
		s.cleanup = func(ctx context.Context) error { return b.dropRedis(ctx, prefix) }
	case r.server == "latch":
		sep := ":"
		if r.store == "postgres" {
			sep = "_"
		}
		prefix := newPrefix(sep)
		u, err := b.storeURL(r.store, prefix, dir)
		if err != nil {
			return nil, err
		}
		env = append(env, "LATCH_MODE="+r.mode, "LATCH_STORE="+u,
			"LATCH_SESSION_KEY="+randomKey(), "LATCH_JWT_SECRET="+randomKey(),
			fmt.Sprintf("LATCH_SESSION_CHECK=%t", r.sessionCheck))
		if r.cache {
			env = append(env, "LATCH_SESSION_CACHE="+sessionCacheSetting)
		}
		if touchInterval != "" {
			env = append(env, "LATCH_TOUCH_INTERVAL="+touchInterval)
		}
		switch r.store {
		case "redis":
			s.cleanup = func(ctx context.Context) error { return b.dropRedis(ctx, prefix) }
		case "postgres":
			s.cleanup = func(ctx context.Context) error { return b.dropPostgres(ctx, prefix) }
		}
	}
	cmd := exec.Command(self, args...)
	cmd.Env = env
	return s, s.run(ctx, cmd, nil)
}

// run starts cmd and waits for its "listening=" line on stdout, recording
// the key=value lines before it in s.notes; or, when ready is not nil,
// for ready to return the address.
func (s *running) run(ctx context.Context, cmd *exec.Cmd, ready func(context.Context) (string, error)) error {
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.done, s.notes = cmd, make(chan struct{}), map[string]string{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if ready != nil {
		go func() {
			for range lines {
			}
		}()
		if s.addr, err = ready(ctx); err == nil {
			return nil
		}
		return s.failed(err)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return s.failed(errors.New("exited before listening"))
			}
			k, v, _ := strings.Cut(l, "=")
			if k == "listening" {
				s.addr = v
				go func() {
					for range lines {
					}
				}()
				return nil
			}
			s.notes[k] = v
		case <-ctx.Done():
			return s.failed(ctx.Err())
		}
	}
}

// failed stops the server and returns err with the end of its log.
func (s *running) failed(err error) error {
	s.stop()
	log, _ := os.ReadFile(s.log)
	if len(log) > 2000 {
		log = log[len(log)-2000:]
	}
	return fmt.Errorf("%w\n%s", err, log)
}

// stop ends the server: SIGTERM, then SIGKILL after 10 s.
func (s *running) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// cleanEnv is the environment without latch's settings, so that the
// servers get the row's alone.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LATCH_") && !strings.HasPrefix(kv, "LATCH_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// randomKey returns base64 of 32 random bytes.
func randomKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// freePort returns a loopback address no one listens on at the moment.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// check asks addr's GET /protected with token, and fails unless the answer
// is 200; and, when the route is guarded, without, and fails unless that
// answer is 401.
func check(ctx context.Context, addr, token string, guarded bool) error {
	type ask struct {
		token string
		want  int
	}
	asks := []ask{{token, http.StatusOK}}
	if guarded {
		asks = append(asks, ask{"", http.StatusUnauthorized})
	}
	for _, c := range asks {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/protected", nil)
		if err != nil {
			return err
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode != c.want {
			return fmt.Errorf("GET /protected with token=%t: %d %s, want %d", c.token != "", resp.StatusCode, body, c.want)
		}
	}
	return nil
}

// firstToken returns the first line of the tokens file.
func firstToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	if tok == "" {
		return "", errors.New("no token in " + path)
	}
	return tok, nil
}
