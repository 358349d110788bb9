package main

import (
	"slices"
	"strings"
	"testing"
)

func TestGraphProblems(t *testing.T) {
	tests := []struct {
		name     string
		graph    []string
		coreOnly bool
		want     []string // substrings, one per problem
	}{
		{"core-only, clean", []string{corePath, "github.com/golang-jwt/jwt/v5", "golang.org/x/crypto"}, true, nil},
		{"core-only, one more", []string{corePath, "github.com/golang-jwt/jwt/v5", "github.com/pkg/errors"}, true,
			[]string{"a core-only user's module graph holds github.com/pkg/errors"}},
		{"core-only, a store", []string{corePath, corePath + "/store/sqlstore"}, true,
			[]string{"holds " + corePath + "/store/sqlstore"}},
		{"store user, drivers", []string{corePath, "github.com/lib/pq", "modernc.org/sqlite"}, false, nil},
		{"dockertest", []string{corePath, "github.com/ory/dockertest/v3", "github.com/docker/docker", "github.com/docker/go-units"}, false, []string{
			"holds github.com/ory/dockertest/v3: Docker", "holds github.com/docker/docker: Docker", "holds github.com/docker/go-units: Docker",
		}},
		{"latch internal module", []string{corePath, corePath + "/internal/testenv", corePath + "/internal/dockerenv"}, false, []string{
			"holds " + corePath + "/internal/testenv: a latch internal/ module", "holds " + corePath + "/internal/dockerenv: a latch internal/",
		}},
		{"core-only and Docker: the worse reason", []string{"github.com/docker/cli"}, true, []string{"github.com/docker/cli: Docker"}},
		{"someone else's internal", []string{"example.com/internal/x"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, graphProblems(tt.graph, tt.coreOnly), tt.want)
		})
	}
}

// checkProblems wants one problem per substring of want, in order.
func checkProblems(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %d: %q", got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d: %q lacks %q", i, got[i], want[i])
		}
	}
}

func TestSumProblems(t *testing.T) {
	sum := `github.com/golang-jwt/jwt/v5 v5.3.1 h1:abc=
github.com/golang-jwt/jwt/v5 v5.3.1/go.mod h1:def=
github.com/ory/dockertest/v3 v3.12.0/go.mod h1:ghi=

github.com/latchauth/latch/internal/testenv v0.0.0/go.mod h1:jkl=
`
	mods := parseSum(sum)
	if want := []string{"github.com/golang-jwt/jwt/v5", corePath + "/internal/testenv", "github.com/ory/dockertest/v3"}; !slices.Equal(mods, want) {
		t.Errorf("parseSum = %q, want %q", mods, want)
	}
	checkProblems(t, sumProblems(mods, nil), []string{"go.sum names " + corePath + "/internal/testenv", "go.sum names github.com/ory/dockertest/v3"})
	// What the graph holds is judged there, not twice.
	checkProblems(t, sumProblems(mods, []string{"github.com/ory/dockertest/v3"}), []string{"go.sum names " + corePath + "/internal/testenv"})
}

func TestParseListM(t *testing.T) {
	out := `example.com/latchuser
github.com/golang-jwt/jwt/v5 v5.3.1
github.com/latchauth/latch v0.1.0
golang.org/x/sys v0.49.0 => golang.org/x/sys v0.50.0
`
	want := []string{"github.com/golang-jwt/jwt/v5", corePath, "golang.org/x/sys"}
	if got := parseListM(out); !slices.Equal(got, want) {
		t.Errorf("parseListM = %q, want %q", got, want)
	}
}

// TestLinkProblems reads `go version -m` as Go 1.26 prints it.
func TestLinkProblems(t *testing.T) {
	out := "/tmp/u/latchuser: go1.26.8\n" +
		"\tpath\texample.com/latchuser\n" +
		"\tmod\texample.com/latchuser\t(devel)\t\n" +
		"\tdep\tgithub.com/latchauth/latch\tv0.1.0\th1:abc=\n" +
		"\tdep\tgithub.com/lib/pq\tv1.12.3\th1:def=\n" +
		"\tdep\tmodernc.org/sqlite\tv1.62.0\n" +
		"\t=>\t../sqlite\t(devel)\t\n" +
		"\tbuild\t-trimpath=true\n"
	linked := parseVersionM(out)
	if want := []string{corePath, "github.com/lib/pq", "modernc.org/sqlite"}; !slices.Equal(linked, want) {
		t.Errorf("parseVersionM = %q, want %q", linked, want)
	}
	checkProblems(t, linkProblems(linked, notForPostgres), []string{"the program links modernc.org/sqlite"})
	checkProblems(t, linkProblems(linked[:2], notForPostgres), nil)
}
