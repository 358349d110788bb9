package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/testenv"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args             []string
		verb, state, err string
	}{
		{[]string{"start", "/tmp/s"}, "start", "/tmp/s", ""},
		{[]string{"stop", "s"}, "stop", "s", ""},
		{nil, "", "", "want a verb and a state file"},
		{[]string{"start"}, "", "", "want a verb and a state file"},
		{[]string{"start", "a", "b"}, "", "", "want a verb and a state file"},
		{[]string{"restart", "s"}, "", "", `unknown verb "restart"`},
		{[]string{"stop", ""}, "", "", "empty state file name"},
	}
	for _, tt := range tests {
		verb, state, err := parseArgs(tt.args)
		if verb != tt.verb || state != tt.state || errString(err) != tt.err {
			t.Errorf("parseArgs(%q) = %q, %q, %v; want %q, %q, %q", tt.args, verb, state, err, tt.verb, tt.state, tt.err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRunUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	noEngine := func() (engine, error) { t.Fatal("connected for a bad command line"); return nil, nil }
	if code := run([]string{"start"}, env(nil), noEngine, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "dockerenv: want a verb and a state file\nusage: ") {
		t.Errorf("stdout %q, stderr %q", &stdout, &stderr)
	}
}

func TestToStart(t *testing.T) {
	names := func(bs []backend) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.name)
		}
		return out
	}
	all := []string{"postgres", "mysql", "redis", "mongo"}
	if got := names(toStart(env(nil))); !slices.Equal(got, all) {
		t.Errorf("nothing set: %q, want %q", got, all)
	}
	set := env(map[string]string{
		testenv.PostgresVar: "postgres://h/db", testenv.RedisVar: " ", testenv.MongoVar: "mongodb://h",
		testenv.RedisClusterVar: "",
	})
	if got, want := names(toStart(set)), []string{"mysql", "redis"}; !slices.Equal(got, want) {
		t.Errorf("some set: %q, want %q (blank counts as unset; Redis Cluster never starts)", got, want)
	}
}

func TestBackendValues(t *testing.T) {
	want := map[string]string{
		"postgres": "postgres://postgres@localhost:32768/test?sslmode=disable",
		"mysql":    "root@tcp(localhost:32768)/test",
		"redis":    "localhost:32768",
		"mongo":    "mongodb://localhost:32768",
	}
	images := map[string]string{"postgres": "postgres:16-alpine", "mysql": "mariadb:11", "redis": "redis:7-alpine", "mongo": "mongo:7"}
	for _, b := range backends {
		if got := b.value("localhost:32768"); got != want[b.name] {
			t.Errorf("%s: value %q, want %q", b.name, got, want[b.name])
		}
		if b.image != images[b.name] {
			t.Errorf("%s: image %q, want %q", b.name, b.image, images[b.name])
		}
	}
}

// TestExportLine runs the line through sh: what the shell sets must be
// the value, whatever it holds.
func TestExportLine(t *testing.T) {
	if got, want := exportLine("V", "root@tcp(h:1)/test"), "export V='root@tcp(h:1)/test'\n"; got != want {
		t.Errorf("exportLine = %q, want %q", got, want)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh to check the quoting with: %v", err)
	}
	for _, v := range []string{"postgres://u@h/db?a=1&b=2", `it's "$HOME" $(false) ;|`, ""} {
		out, err := exec.Command(sh, "-c", exportLine("V", v)+`printf %s "$V"`).Output()
		if err != nil || string(out) != v {
			t.Errorf("sh read %q back as %q (%v)", v, out, err)
		}
	}
}

// fakeEngine runs containers on paper.
type fakeEngine struct {
	mu      sync.Mutex
	fail    map[string]error // by image: run's error
	noID    map[string]bool  // by image: the failure leaves no container
	removed []string
}

func idOf(image string) string {
	return strings.Repeat(string("abcd"[len(image)%4]), 63) + string("0123456789"[len(image)%10])
}

func (f *fakeEngine) run(b backend) (string, string, error) {
	if err := f.fail[b.image]; err != nil {
		if f.noID[b.image] {
			return "", "", err
		}
		return idOf(b.image), "", err
	}
	return idOf(b.image), "127.0.0.1:1" + b.port[:4], nil
}

func (f *fakeEngine) remove(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

// answering is backends whose servers answer at once.
func answering() []backend {
	bs := slices.Clone(backends)
	for i := range bs {
		bs[i].probe = func(string) error { return nil }
	}
	return bs
}

func TestStartStop(t *testing.T) {
	state := filepath.Join(t.TempDir(), "containers")
	f := &fakeEngine{
		fail: map[string]error{
			"mariadb:11": errors.New("setting its expiry: exec refused"),
			"mongo:7":    errors.New("pull access denied"),
		},
		noID: map[string]bool{"mongo:7": true},
	}
	connect := func() (engine, error) { return f, nil }
	var stdout, stderr bytes.Buffer
	if code := start(state, answering(), connect, &stdout, &stderr); code != 1 {
		t.Errorf("start exit %d, want 1 (two backends failed)", code)
	}
	wantOut := "export LATCH_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:15432/test?sslmode=disable'\n" +
		"export LATCH_TEST_REDIS_ADDR='127.0.0.1:16379'\n"
	if stdout.String() != wantOut {
		t.Errorf("stdout %q, want %q", &stdout, wantOut)
	}
	for _, want := range []string{
		"dockerenv: LATCH_TEST_MYSQL_DSN stays unset: starting mariadb:11 failed: setting its expiry: exec refused\n",
		"dockerenv: LATCH_TEST_MONGO_URI stays unset: starting mongo:7 failed: pull access denied\n",
		"dockerenv: LATCH_TEST_POSTGRES_DSN from a postgres:16-alpine container\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", &stderr, want)
		}
	}
	// Every container that exists is listed, the failed MariaDB one too;
	// the Mongo one never existed.
	ids, err := readState(state)
	want := []string{idOf("postgres:16-alpine"), idOf("mariadb:11"), idOf("redis:7-alpine")}
	slices.Sort(ids)
	slices.Sort(want)
	if err != nil || !slices.Equal(ids, want) {
		t.Fatalf("state lists %q (%v), want %q", ids, err, want)
	}

	stderr.Reset()
	if code := stop(state, connect, &stderr); code != 0 {
		t.Errorf("stop exit %d, stderr %q", code, &stderr)
	}
	slices.Sort(f.removed)
	if !slices.Equal(f.removed, want) {
		t.Errorf("removed %q, want %q", f.removed, want)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left after stop: %v", err)
	}
}

func TestStartNothingToDo(t *testing.T) {
	connect := func() (engine, error) { t.Fatal("contacted an engine with every variable set"); return nil, nil }
	var stdout, stderr bytes.Buffer
	if code := start(filepath.Join(t.TempDir(), "s"), nil, connect, &stdout, &stderr); code != 0 || stdout.Len()+stderr.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, &stdout, &stderr)
	}
}

func TestNoEngine(t *testing.T) {
	state := filepath.Join(t.TempDir(), "s")
	connect := func() (engine, error) {
		return nil, errors.New("dial unix /var/run/docker.sock: connect: no such file or directory")
	}
	var stdout, stderr bytes.Buffer
	if code := start(state, answering()[:2], connect, &stdout, &stderr); code != 0 {
		t.Errorf("start exit %d, want 0: no engine is no failure", code)
	}
	want := "dockerenv: no Docker engine answered (dial unix /var/run/docker.sock: connect: no such file or directory); " +
		"LATCH_TEST_POSTGRES_DSN, LATCH_TEST_MYSQL_DSN stay unset\n"
	if stdout.Len() != 0 || stderr.String() != want {
		t.Errorf("stdout %q, stderr %q; want stderr %q", &stdout, &stderr, want)
	}
	// Nothing was started, so stop needs no engine either.
	stderr.Reset()
	if code := stop(state, connect, &stderr); code != 0 {
		t.Errorf("stop exit %d, stderr %q", code, &stderr)
	}
}

func TestStopKeepsStateWithoutEngine(t *testing.T) {
	state := filepath.Join(t.TempDir(), "s")
	if err := appendState(state, idOf("redis:7-alpine")); err != nil {
		t.Fatal(err)
	}
	connect := func() (engine, error) { return nil, errors.New("gone") }
	var stderr bytes.Buffer
	if code := stop(state, connect, &stderr); code != 1 || !strings.Contains(stderr.String(), "they stop on their own within 15m0s") {
		t.Errorf("exit %d, stderr %q", code, &stderr)
	}
	if ids, err := readState(state); err != nil || len(ids) != 1 {
		t.Errorf("state after a failed stop: %q, %v; want it kept", ids, err)
	}
}

func TestReadStateRefusesNames(t *testing.T) {
	state := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(state, []byte(idOf("x")+"\n\npostgres\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ids, err := readState(state); err == nil || !strings.Contains(err.Error(), `"postgres" is not a container ID`) {
		t.Errorf("readState = %q, %v; want it refused", ids, err)
	}
}

func TestWaitReady(t *testing.T) {
	calls := 0
	flaky := func(string) error {
		if calls++; calls < 3 {
			return errors.New("connection refused")
		}
		return nil
	}
	if err := waitReady(flaky, "h:1", time.Minute, time.Millisecond); err != nil || calls != 3 {
		t.Errorf("waitReady = %v after %d probes, want success on the third", err, calls)
	}
	never := func(string) error { return errors.New("connection refused") }
	start := time.Now()
	if err := waitReady(never, "h:1", 20*time.Millisecond, time.Millisecond); err == nil || err.Error() != "connection refused" {
		t.Errorf("waitReady = %v, want the last probe's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waitReady took %v past a 20ms wait", d)
	}
}
