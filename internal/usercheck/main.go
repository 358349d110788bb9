// Command usercheck plays an outside user of every published latch
// module, the way a release will be used, before any tag exists.
//
// It serves each published module of the working tree from a file-system
// module proxy of its own, at the version the published modules require
// of one another (v0.1.0 for the first release; they must agree) (the zip made as the go command
// makes one, nested modules left out). Then for each module, and for a
// PostgreSQL-only program, it writes a new module in a temporary
// directory outside the repository that requires that module with no
// replace and no workspace, imports its packages from a main package and
// its test, and runs go mod tidy and go build. A case fails if a command
// fails, if the module graph or go.sum holds anything of Docker or a
// latch internal/ module, if a core-only user's graph holds more than
// the core, golang-jwt and golang.org/x modules, or if the
// PostgreSQL-only program links the MySQL driver or SQLite.
//
// Latch modules come only from that proxy, never from a module cache
// entry of an earlier run: each run has a module cache of its own, which
// links every other module to the shared cache (so nothing is unpacked
// twice) and leaves latch's directories out. Builds use -trimpath, so
// the shared build cache serves them whatever the module cache's path.
//
//	go run ./internal/usercheck [-root DIR] [-keep]
//
// It is a module of its own, never published (it needs golang.org/x/mod).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

const (
	sqlstorePath = corePath + "/store/sqlstore"
	// postgresOnly is the package a PostgreSQL-only program imports.
	postgresOnly  = sqlstorePath + "/postgres"
	parallelCases = 2 // cases run at once; each go command is parallel itself
)

// notForPostgres are the modules a PostgreSQL-only program must not link.
var notForPostgres = []string{"github.com/go-sql-driver/mysql", "modernc.org/sqlite"}

func main() {
	root := flag.String("root", "", "the repository `dir` (default: the one holding the working directory)")
	keep := flag.Bool("keep", false, "keep the temporary directory (the proxy, the users' modules) and say where")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: usercheck [-root dir] [-keep]")
		os.Exit(2)
	}
	os.Exit(run(*root, *keep, os.Stdout, os.Stderr))
}

func run(root string, keep bool, stdout, stderr io.Writer) int {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "usercheck: "+format+"\n", args...) }
	root, err := findRoot(root)
	if err != nil {
		logf("%v", err)
		return 1
	}
	mods, err := findModules(root)
	if err != nil {
		logf("%v", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "latch-usercheck-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	if keep {
		logf("keeping %s", tmp)
	} else {
		defer func() {
			if err := removeAll(tmp); err != nil {
				logf("removing %s: %v", tmp, err)
			}
		}()
	}

	var published []mod
	for _, m := range mods {
		if m.published() {
			published = append(published, m)
		}
	}
	version, err := releaseVersion(root, published)
	if err != nil {
		logf("%v", err)
		return 1
	}
	proxy := filepath.Join(tmp, "proxy")
	pkgs := map[string][]string{}
	for _, m := range published {
		p, err := serve(root, proxy, m, version)
		if err != nil {
			logf("%s: %v", m.Path, err)
			return 1
		}
		pkgs[m.Path] = p
	}
	env, err := outsideEnv(proxy, filepath.Join(tmp, "modcache"))
	if err != nil {
		logf("%v", err)
		return 1
	}
	cases := casesFor(published, pkgs, version)
	fmt.Fprintf(stdout, "usercheck: %d published modules at %s from a file proxy; each user a fresh module outside the repository\n", len(published), version)
	results := runCases(cases, tmp, env)
	failed := 0
	for _, r := range results {
		fmt.Fprint(stdout, summaryLine(r))
		if len(r.problems) > 0 {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "usercheck: %d of %d users failed\n", failed, len(results))
		return 1
	}
	fmt.Fprintf(stdout, "usercheck: all %d users passed\n", len(results))
	return 0
}

// findRoot returns dir, or the nearest directory at or above the working
// directory whose go.mod is the core's.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modfile.ModulePath(data) == corePath {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("not inside the latch repository (no go.mod of " + corePath + " above the working directory); use -root")
		}
		d = parent
	}
}

// serve adds m at version to the proxy and returns the packages a user
// can import.
func serve(root, proxy string, m mod, version string) ([]string, error) {
	files, err := moduleFiles(root, m.Dir)
	if err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, m.Dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	if err := writeModule(proxy, module.Version{Path: m.Path, Version: version}, gomod, files, time.Now()); err != nil {
		return nil, err
	}
	return importable(m.Path, filepath.Join(root, m.Dir), files)
}

// outsideEnv makes the run's own module cache, modCache, and returns the
// environment of the users' go commands.
func outsideEnv(proxy, modCache string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return nil, fmt.Errorf("go env printed %q", out)
	}
	usualProxy, shared := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	if shared != "" {
		if err := privateModCache(modCache, shared); err != nil {
			return nil, err
		}
	}
	return userEnv(os.Environ(), proxy, modCache, usualProxy), nil
}

// casesFor returns a user of each published module, importing all its
// packages, and the PostgreSQL-only user.
func casesFor(published []mod, pkgs map[string][]string, version string) []userCase {
	var cases []userCase
	haveSQL := false
	for _, m := range published {
		cases = append(cases, userCase{
			name:     m.Path,
			require:  module.Version{Path: m.Path, Version: version},
			imports:  pkgs[m.Path],
			coreOnly: m.Path == corePath,
		})
		haveSQL = haveSQL || m.Path == sqlstorePath
	}
	pg := userCase{
		name:     "PostgreSQL only (" + postgresOnly + ")",
		require:  module.Version{Path: sqlstorePath, Version: version},
		imports:  []string{postgresOnly},
		unlinked: notForPostgres,
	}
	switch {
	case !haveSQL:
		pg.missing = "no published module " + sqlstorePath + " in the tree"
	case !slices.Contains(pkgs[sqlstorePath], postgresOnly):
		pg.missing = "package " + postgresOnly + " is not in the tree yet: a PostgreSQL-only program cannot be built without linking MySQL and SQLite"
	}
	return append(cases, pg)
}

// runCases runs cases, parallelCases at a time, each in a directory of
// its own under tmp, and returns their results in cases' order.
func runCases(cases []userCase, tmp string, env []string) []result {
	results := make([]result, len(cases))
	sem := make(chan struct{}, parallelCases)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = c.run(filepath.Join(tmp, "users", fmt.Sprint(i)), env)
		})
	}
	wg.Wait()
	return results
}

// summaryLine is one case's line of the summary, and its problems
// indented below it.
func summaryLine(r result) string {
	status := "ok  "
	if len(r.problems) > 0 {
		status = "FAIL"
	}
	detail := count(r.packages, "package")
	if r.graph > 0 {
		detail += ", " + count(r.graph, "module") + " in the graph"
	}
	line := fmt.Sprintf("%s %-48s %s, %.1fs\n", status, r.name, detail, r.elapsed.Seconds())
	for _, p := range r.problems {
		line += "     " + strings.ReplaceAll(p, "\n", "\n     ") + "\n"
	}
	return line
}

// count is "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
