package main

import (
	"strings"
	"testing"
)

// stream is a govulncheck -format json run, cut down: an OSV entry, a
// called finding in a module, one in the standard library, and one that
// is only imported.
const stream = `{"config": {"protocol_version": "v1.0.0"}}
{"osv": {"id": "GO-2026-0001", "summary": "Bad thing in mod"}}
{"osv": {"id": "GO-2026-0002", "summary": "Bad thing in net/http"}}
{"finding": {"osv": "GO-2026-0001", "fixed_version": "v1.2.4",
  "trace": [{"module": "example.com/mod", "version": "v1.2.3", "package": "example.com/mod/pkg", "function": "Parse"},
            {"module": "github.com/latchauth/latch", "package": "github.com/latchauth/latch", "function": "New"}]}}
{"finding": {"osv": "GO-2026-0001", "fixed_version": "v1.2.4",
  "trace": [{"module": "example.com/mod", "version": "v1.2.3", "package": "example.com/mod/pkg", "function": "Parse"}]}}
{"finding": {"osv": "GO-2026-0002", "fixed_version": "v1.26.9",
  "trace": [{"module": "stdlib", "version": "v1.26.8", "package": "net/http", "function": "Do", "receiver": "*Client"}]}}
{"finding": {"osv": "GO-2026-0003", "trace": [{"module": "example.com/other", "version": "v0.1.0", "package": "example.com/other"}]}}
`

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		allow  map[string]string
		status int
		want   []string // substrings of the output, in order
		never  []string
	}{
		{
			name:   "an unlisted module finding fails",
			in:     stream,
			status: 1,
			want: []string{
				"vulngate: FAIL: GO-2026-0001 example.com/mod@v1.2.3 (Bad thing in mod; fixed in v1.2.4), reached from github.com/latchauth/latch.New → example.com/mod/pkg.Parse",
				"vulngate: warning: Go toolchain: GO-2026-0002 stdlib@v1.26.8",
			},
			never: []string{"GO-2026-0003", "vulngate: ok"},
		},
		{
			name:   "a listed finding passes, a stale entry is named",
			in:     stream,
			allow:  map[string]string{"GO-2026-0001": "not reachable with our input", "GO-2025-9999": "old"},
			status: 0,
			want: []string{
				"vulngate: allowed: GO-2026-0001",
				": not reachable with our input",
				"vulngate: note: GO-2025-9999 is allowed but no longer found",
				"vulngate: ok: 2 reachable vulnerabilities",
			},
		},
		{
			name:   "a standard library finding alone passes",
			in:     `{"finding": {"osv": "GO-2026-0002", "fixed_version": "v1.26.9", "trace": [{"module": "stdlib", "version": "v1.26.8", "package": "net/http", "function": "Do"}]}}`,
			status: 0,
			want:   []string{"build releases with Go v1.26.9 or newer", "vulngate: ok: 1 reachable"},
		},
		{name: "no output fails", in: "", status: 1, want: []string{"vulngate: no govulncheck output"}},
		{name: "garbage fails", in: `{"finding": [`, status: 1, want: []string{"vulngate: reading govulncheck output"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if got := run(strings.NewReader(tt.in), &out, tt.allow); got != tt.status {
				t.Errorf("status = %d, want %d; output:\n%s", got, tt.status, out.String())
			}
			rest := out.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order); output:\n%s", w, out.String())
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.never {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q; output:\n%s", n, out.String())
				}
			}
		})
	}
}

func TestReadAllow(t *testing.T) {
	got, err := readAllow(strings.NewReader("# comment\n\nGO-2026-0001 reason one\nGO-2026-0002   spaced reason \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["GO-2026-0001"] != "reason one" || got["GO-2026-0002"] != "spaced reason" {
		t.Errorf("readAllow = %v", got)
	}
	for _, bad := range []string{"GO-2026-0001\n", "CVE-2026-1 reason\n", "GO-2026-0001    \n"} {
		if _, err := readAllow(strings.NewReader(bad)); err == nil {
			t.Errorf("readAllow(%q): no error", bad)
		}
	}
}
