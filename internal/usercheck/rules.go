package main

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

const corePath = "github.com/latchauth/latch"

// coreOnlyAllowed reports whether a core-only user's module graph may
// hold path: the core itself, golang-jwt and golang.org/x modules.
func coreOnlyAllowed(path string) bool {
	return path == corePath || strings.HasPrefix(path, "github.com/golang-jwt/") || strings.HasPrefix(path, "golang.org/x/")
}

// forbidden says why no user's module graph may hold path, or "" when
// it may: nothing of Docker (dockertest, Docker's client) and no latch
// module under internal/, which exist for latch's own tests and tools.
func forbidden(path string) string {
	switch {
	case strings.HasPrefix(path, corePath+"/") && slices.Contains(strings.Split(path, "/"), "internal"):
		return "a latch internal/ module (never published)"
	case strings.Contains(strings.ToLower(path), "docker"):
		return "Docker (a test-only dependency)"
	}
	return ""
}

// graphProblems judges a user's module graph (module paths, the user's
// own left out).
func graphProblems(graph []string, coreOnly bool) []string {
	var problems []string
	for _, p := range graph {
		if why := forbidden(p); why != "" {
			problems = append(problems, fmt.Sprintf("the module graph holds %s: %s", p, why))
		} else if coreOnly && !coreOnlyAllowed(p) {
			problems = append(problems, fmt.Sprintf("a core-only user's module graph holds %s (only the core, golang-jwt and golang.org/x may be there)", p))
		}
	}
	return problems
}

// sumProblems judges the modules a user's go.sum names (its lines'
// first fields) that its module graph does not hold (graphProblems has
// judged those): go mod tidy records there every module whose go.mod or
// code it read, tests' dependencies included.
func sumProblems(sumModules, graph []string) []string {
	var problems []string
	for _, p := range sumModules {
		if slices.Contains(graph, p) {
			continue
		}
		if why := forbidden(p); why != "" {
			problems = append(problems, fmt.Sprintf("go.sum names %s: %s", p, why))
		}
	}
	return problems
}

// linkProblems reports which of the modules in unwanted a program links,
// given the modules it links.
func linkProblems(linked, unwanted []string) []string {
	var problems []string
	for _, p := range unwanted {
		if slices.Contains(linked, p) {
			problems = append(problems, fmt.Sprintf("the program links %s", p))
		}
	}
	return problems
}

// parseListM reads `go list -m all`: one "path [version] [=> replacement]"
// per line, the main module first, which it leaves out.
func parseListM(out string) []string {
	var paths []string
	for i, line := range nonEmptyLines(out) {
		if i > 0 {
			paths = append(paths, strings.Fields(line)[0])
		}
	}
	return paths
}

// parseSum returns the distinct module paths a go.sum names, sorted.
func parseSum(sum string) []string {
	var paths []string
	for _, line := range nonEmptyLines(sum) {
		paths = append(paths, strings.Fields(line)[0])
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// parseVersionM returns the modules `go version -m` reports a binary
// links: its "dep" lines (a replaced one is reported by its own path).
func parseVersionM(out string) []string {
	var paths []string
	for _, line := range nonEmptyLines(out) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "dep" {
			paths = append(paths, f[1])
		}
	}
	return paths
}

func nonEmptyLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
