package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The output of a go test -fuzz run that Go 1.26's coordinator failed at
// the -fuzztime deadline (go.dev/issue/75804), and of real failures.
const (
	boundaryRace = "fuzz: elapsed: 11s, execs: 85823 (3/sec)\n--- FAIL: FuzzX (11.02s)\n    context deadline exceeded\nFAIL\nexit status 1\nFAIL\tpkg\t11.042s\n"
	written      = "--- FAIL: FuzzX (1.02s)\n    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzX/0a1b\nFAIL\n"
	assertion    = "--- FAIL: FuzzX (1.02s)\n    x_test.go:3: boom\nFAIL\n"
	crashed      = "--- FAIL: FuzzX (1.02s)\n    context deadline exceeded\npanic: boom\nFAIL\n"
	otherTarget  = "--- FAIL: FuzzY (11.02s)\n    context deadline exceeded\nFAIL\n"
	twoFailures  = "--- FAIL: FuzzX (11.02s)\n    context deadline exceeded\n--- FAIL: FuzzX/seed (0.01s)\nFAIL\n"
	passed       = "PASS\nok  \tpkg\t10.1s\n"
)

// TestFuzzRerunsOnlyTheDeadlineRace runs .ci/fuzz with a fake go command
// that answers each run with the next scripted output: the deadline race
// alone is run again, up to three runs; every other failure fails the
// first time.
func TestFuzzRerunsOnlyTheDeadlineRace(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash, which make and .ci need too: %v", err)
	}
	script, err := filepath.Abs("../../.ci/fuzz")
	if err != nil {
		t.Fatal(err)
	}
	fail, pass := 1, 0
	for _, c := range []struct {
		name    string
		outputs []string // one per run; a run fails unless it is passed
		wantRC  int
		runs    int // runs of go test
	}{
		{"pass", []string{passed}, pass, 1},
		{"race then pass", []string{boundaryRace, passed}, pass, 2},
		{"race twice then pass", []string{boundaryRace, boundaryRace, passed}, pass, 3},
		{"race three times", []string{boundaryRace, boundaryRace, boundaryRace, passed}, fail, 3},
		{"input written", []string{written, passed}, fail, 1},
		{"assertion", []string{assertion, passed}, fail, 1},
		{"panic", []string{crashed, passed}, fail, 1},
		{"another target's line", []string{otherTarget, passed}, fail, 1},
		{"two failures", []string{twoFailures, passed}, fail, 1},
		{"race then assertion", []string{boundaryRace, assertion, passed}, fail, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, out := range c.outputs {
				if err := os.WriteFile(filepath.Join(dir, "out"+strconv.Itoa(i+1)), []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// The fake go counts its runs in dir/runs and prints dir/outN.
			fake := `#!/usr/bin/env bash
n=$(( $(cat "$FAKE/runs" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$FAKE/runs"
cat "$FAKE/out$n"
grep -q '^ok' "$FAKE/out$n"
`
			if err := os.WriteFile(filepath.Join(dir, "go"), []byte(fake), 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, script, ".", "FuzzX", "10s")
			cmd.Env = append(os.Environ(), "FAKE="+dir, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			rc := 0
			if ee, ok := err.(*exec.ExitError); ok {
				rc = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
			if rc != c.wantRC || strings.TrimSpace(string(runs)) != strconv.Itoa(c.runs) {
				t.Errorf(".ci/fuzz exited %d after %s runs, want %d after %d; output:\n%s", rc, strings.TrimSpace(string(runs)), c.wantRC, c.runs, out)
			}
			// Every run after the first follows a line saying why.
			if said := strings.Count(string(out), "deadline race (go.dev/issue/75804), with no failing input; running it again"); said != c.runs-1 {
				t.Errorf("said %d times that it ran again, want %d; output:\n%s", said, c.runs-1, out)
			}
		})
	}
}
