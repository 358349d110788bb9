package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden replays go test -json output recorded from throwaway
// packages (see testdata/README) and compares the report with a golden
// file.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	wantCode := map[string]int{"pass": 0, "fail": 1, "build": 1, "interleaved": 1}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if code := run(bytes.NewReader(in), &out); code != wantCode[name] {
				t.Errorf("exit code %d, want %d", code, wantCode[name])
			}
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("report differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// report runs the reporter over events given one per line.
func report(t *testing.T, lines ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out)
	return out.String(), code
}

func TestHighlights(t *testing.T) {
	out, code := report(t,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:1: testenv: redis unavailable: x\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB/sub","Output":"    b_test.go:22: testenv: redis unavailable: x\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB/sub","Output":"        x_test.go:3: conformance: memstore: 3 rules ran, 3 passed\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:1: first line\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"        conformance: a continuation line\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:2: see conformance: not at the start\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"testenv: printed, not logged\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"ok  \tp\t0.01s\n"}`,
		`{"Action":"pass","Package":"p"}`,
		`{"Action":"output","Package":"q","Test":"TestQ","Output":"    q_test.go:9: testenv: redis unavailable: x\n"}`,
		`{"Action":"output","Package":"q","Output":"ok  \tq\t0.01s\n"}`,
		`{"Action":"pass","Package":"q"}`,
	)
	want := "" +
		"    TestA: testenv: redis unavailable: x\n" +
		"    TestB/sub: conformance: memstore: 3 rules ran, 3 passed\n" +
		"ok  \tp\t0.01s\n" +
		"ok  \tq\t0.01s\n"
	if out != want || code != 0 {
		t.Errorf("got code %d and\n%s\nwant code 0 and\n%s", code, out, want)
	}
}

func TestCutOff(t *testing.T) {
	// The stream ends before the package does: go test was killed.
	out, code := report(t,
		`{"Action":"start","Package":"p"}`,
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:1: working\n"}`,
	)
	want := "    a_test.go:1: working\nFAIL\tp\nFAIL\n"
	if out != want || code != 1 {
		t.Errorf("got code %d and\n%s\nwant code 1 and\n%s", code, out, want)
	}
}

func TestNotJSON(t *testing.T) {
	out, code := report(t,
		`go: warning: "./..." matched no packages`,
		`{"Action":"output","Package":"p","Output":"?   \tp\t[no test files]\n"}`,
		`{"Action":"skip","Package":"p"}`,
	)
	want := "go: warning: \"./...\" matched no packages\n?   \tp\t[no test files]\n"
	if out != want || code != 0 {
		t.Errorf("got code %d and\n%s\nwant code 0 and\n%s", code, out, want)
	}
}
