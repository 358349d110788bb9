// Command apicheck keeps the exported API of every published module of
// the tree committed as text, so an API change is a deliberate change
// of a file that review sees.
//
// Each module with at least one API package (not a command, not under
// an "internal" element, with Go files besides tests) gets one file
// under api/: api/latch.txt for the module at the root of the tree,
// api/store-sqlstore.txt for store/sqlstore, and so on. Examples and
// test or tool modules have no API package, so they get no file. Each
// line is one feature in the format of Go's api/go1.*.txt, sorted:
//
//	pkg latch, func New(context.Context, Config, ...Option) (*Auth, error)
//	pkg latch, method (*Auth) Close() error
//	pkg latch, type Config struct, Mode Mode
//	pkg latch, const DefaultKeepSpent = 5
//
// Without flags it compares the files with the code and exits with
// status 1, printing a diff, if any differs, is missing or belongs to
// no module any more. With -w it rewrites them.
//
//	go run ./internal/cmd/apicheck      # make apicheck
//	go run ./internal/cmd/apicheck -w   # make api
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	write := flag.Bool("w", false, "rewrite the API files instead of checking them")
	dir := flag.String("dir", "api", "the API files' directory; a relative one is under the root of the tree")
	flag.Parse()
	root, err := findRoot(".")
	if err != nil {
		fmt.Fprintf(os.Stderr, "apicheck: %v\n", err)
		os.Exit(2)
	}
	os.Exit(run(root, *dir, *write, os.Stdout, os.Stderr))
}

// run checks (or with write, rewrites) the API files in dir under root,
// the directory of the tree's go.work or go.mod, and returns the exit
// status.
func run(root, dir string, write bool, stdout, stderr io.Writer) int {
	generated, err := generate(root)
	if err != nil {
		fmt.Fprintf(stderr, "apicheck: %v\n", err)
		return 2
	}
	abs := dir
	if !filepath.IsAbs(dir) {
		abs = filepath.Join(root, dir)
	}
	if write {
		if err := writeDir(abs, generated); err != nil {
			fmt.Fprintf(stderr, "apicheck: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "apicheck: wrote the API of %s to %s/\n", modules(len(generated)), dir)
		return 0
	}
	committed, err := readDir(abs)
	if err != nil {
		fmt.Fprintf(stderr, "apicheck: %v\n", err)
		return 2
	}
	diffs := compare(filepath.ToSlash(dir), committed, generated)
	if len(diffs) == 0 {
		fmt.Fprintf(stdout, "apicheck: %s/ matches the API of %s\n", dir, modules(len(generated)))
		return 0
	}
	fmt.Fprintf(stderr, "apicheck: the exported API differs from %s/:\n\n%s\n", dir, strings.Join(diffs, "\n"))
	fmt.Fprintf(stderr, "If this API change is deliberate, run `make api` and commit %s/ with it,\n"+
		"saying in the commit message why the API changed.\n", dir)
	return 1
}

func modules(n int) string {
	if n == 1 {
		return "1 module"
	}
	return fmt.Sprintf("%d modules", n)
}
