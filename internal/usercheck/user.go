package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// userCase is one outside user: a module of its own that requires one
// latch module and imports packages of it.
type userCase struct {
	name     string
	require  module.Version
	imports  []string
	coreOnly bool     // the graph may hold only the core, golang-jwt and golang.org/x modules
	unlinked []string // modules the program must not link
	missing  string   // why the case cannot run (a package it needs is not in the tree)
}

// result is what became of a case.
type result struct {
	name     string
	packages int           // packages imported
	graph    int           // modules in the graph, the user's left out
	problems []string      // empty when the case passed
	elapsed  time.Duration // how long it took
}

// userMain is the user's program, and its test file: both import every
// package (go mod tidy loads the tests of what they import either way).
func userMain(pkgs []string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n")
	return b.String()
}

// run plays the user in a new directory dir, with env for every go
// command.
func (c userCase) run(dir string, env []string) (r result) {
	start := time.Now()
	r = result{name: c.name, packages: len(c.imports)}
	defer func() { r.elapsed = time.Since(start) }()
	if c.missing != "" {
		r.problems = []string{c.missing}
		return r
	}
	fail := func(err error) result {
		r.problems = append(r.problems, err.Error())
		return r
	}
	gomod := fmt.Sprintf("module example.com/latchuser\n\ngo 1.26\n\nrequire %s %s\n", c.require.Path, c.require.Version)
	prog := userMain(c.imports)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	for name, text := range map[string]string{"go.mod": gomod, "main.go": prog + "\nfunc main() {}\n", "main_test.go": prog} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fail(err)
		}
	}
	bin := filepath.Join(dir, "latchuser")
	if _, err := goCmd(dir, env, "mod", "tidy"); err != nil {
		return fail(err)
	}
	if _, err := goCmd(dir, env, "build", "-o", bin, "."); err != nil {
		return fail(err)
	}
	out, err := goCmd(dir, env, "list", "-m", "all")
	if err != nil {
		return fail(err)
	}
	graph := parseListM(out)
	r.graph = len(graph)
	r.problems = append(r.problems, graphProblems(graph, c.coreOnly)...)
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return fail(err)
	}
	r.problems = append(r.problems, sumProblems(parseSum(string(sum)), graph)...)
	if len(c.unlinked) > 0 {
		out, err := goCmd(dir, env, "version", "-m", bin)
		if err != nil {
			return fail(err)
		}
		r.problems = append(r.problems, linkProblems(parseVersionM(out), c.unlinked)...)
	}
	return r
}

// goCmd runs the go command in dir and returns its standard output; its
// error quotes the end of what it printed on standard error.
func goCmd(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 15))
	}
	return stdout.String(), nil
}

// tail is the last n lines of s, indented.
func tail(s string, n int) string {
	lines := nonEmptyLines(s)
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// userEnv is base with what makes a go command an outside user of the
// modules in the file proxy at proxy: no workspace, no replace, latch
// modules from that proxy only (never from a module cache entry of an
// earlier run: the module cache is modCache, new for each run), the
// other modules from the usual proxy when modCache lacks them, and no
// checksum database for latch modules, which no database knows yet.
func userEnv(base []string, proxy, modCache, usualProxy string) []string {
	proxies := []string{"file://" + filepath.ToSlash(proxy)}
	if usualProxy != "" {
		proxies = append(proxies, usualProxy)
	}
	set := map[string]string{
		"GOWORK":      "off",
		"GOFLAGS":     "-mod=mod -trimpath", // -trimpath: the build cache serves every run, whatever its module cache
		"GOPROXY":     strings.Join(proxies, ","),
		"GOMODCACHE":  modCache,
		"GONOSUMDB":   corePath,
		"GOPRIVATE":   "", // would send latch modules around the proxy
		"GONOPROXY":   "",
		"GOTOOLCHAIN": "local",
	}
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		env = append(env, k+"="+set[k])
	}
	return env
}
