package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// module is a module of the tree: one in go.work's use list, or the
// main module when there is no go.work.
type module struct {
	Path string
	Dir  string
	pkgs []*types.Package // its API packages, sorted by path
}

// listed is the part of `go list -json` this tool reads.
type listed struct {
	ImportPath string
	Name       string
	Export     string
	GoFiles    []string
	CgoFiles   []string
	Module     *struct{ Path string }
}

// load returns the modules of the tree at root (a directory holding
// go.work or go.mod), sorted by path, each with the types of its API
// packages. The types come from the export data the compiler writes:
// one `go list` finds the packages, a second builds the API packages
// (from the build cache when nothing changed) and names each one's
// export data file, and go/importer reads those.
func load(root string) ([]*module, error) {
	mods, err := listModules(root)
	if err != nil {
		return nil, err
	}
	var patterns []string
	byPath := map[string]*module{}
	for _, m := range mods {
		patterns = append(patterns, m.Path+"/...")
		byPath[m.Path] = m
	}
	pkgs, err := goList(root, append([]string{"-json=ImportPath,Name,GoFiles,CgoFiles,Module"}, patterns...)...)
	if err != nil {
		return nil, err
	}
	var api []string
	owner := map[string]*module{}
	for _, p := range pkgs {
		if p.Module == nil || byPath[p.Module.Path] == nil || !isAPI(p) {
			continue
		}
		api = append(api, p.ImportPath)
		owner[p.ImportPath] = byPath[p.Module.Path]
	}
	if len(api) == 0 {
		return mods, nil
	}
	deps, err := goList(root, append([]string{"-deps", "-export", "-json=ImportPath,Export"}, api...)...)
	if err != nil {
		return nil, err
	}
	export := map[string]string{}
	for _, p := range deps {
		export[p.ImportPath] = p.Export
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		file, ok := export[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	for _, p := range api {
		pkg, err := imp.Import(p)
		if err != nil {
			return nil, err
		}
		m := owner[p]
		m.pkgs = append(m.pkgs, pkg)
	}
	for _, m := range mods {
		slices.SortFunc(m.pkgs, func(a, b *types.Package) int { return strings.Compare(a.Path(), b.Path()) })
	}
	return mods, nil
}

// isAPI reports whether a package is part of its module's API: it has
// Go files to build, is not a command, and no "internal" element hides
// it from other modules.
func isAPI(p listed) bool {
	return len(p.GoFiles)+len(p.CgoFiles) > 0 && p.Name != "main" && !isInternal(p.ImportPath)
}

// isInternal reports whether an import path has an "internal" element.
func isInternal(importPath string) bool {
	return slices.Contains(strings.Split(importPath, "/"), "internal")
}

// listModules returns the modules of the tree at root, sorted by path.
func listModules(root string) ([]*module, error) {
	out, err := goCmd(root, "list", "-m", "-json")
	if err != nil {
		return nil, err
	}
	var mods []*module
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var m module
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -m: %w", err)
		}
		mods = append(mods, &m)
	}
	slices.SortFunc(mods, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// goList runs go list with args and decodes its stream of JSON values.
func goList(root string, args ...string) ([]listed, error) {
	out, err := goCmd(root, append([]string{"list"}, args...)...)
	if err != nil {
		return nil, err
	}
	var pkgs []listed
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

// goCmd runs the go command in root, using root's go.work if it has
// one and no workspace otherwise, whatever GOWORK says outside.
func goCmd(root string, args ...string) ([]byte, error) {
	work := filepath.Join(root, "go.work")
	if _, err := os.Stat(work); err != nil {
		work = "off"
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK="+work, "PWD="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// findRoot returns the directory of the go.work, or else the go.mod,
// that governs dir.
func findRoot(dir string) (string, error) {
	cmd := exec.Command("go", "env", "GOWORK", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f != "" && f != "off" && f != os.DevNull {
			return filepath.Dir(f), nil
		}
	}
	return "", errors.New("not in a Go module or workspace")
}

// fileName is the name of a module's API file: the module's directory
// relative to root with "/" as "-", or for the module at root the last
// element of its path ("latch", "store-sqlstore").
func fileName(root string, m *module) (string, error) {
	rel, err := filepath.Rel(root, m.Dir)
	if err != nil {
		return "", err
	}
	if rel == "." {
		return path.Base(m.Path) + ".txt", nil
	}
	return strings.ReplaceAll(filepath.ToSlash(rel), "/", "-") + ".txt", nil
}
