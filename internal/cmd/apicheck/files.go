package main

import (
	"errors"
	"fmt"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// generate returns the API file of every module of the tree at root that
// has API packages: file name -> content.
func generate(root string) (map[string]string, error) {
	mods, err := load(root)
	if err != nil {
		return nil, err
	}
	// Labels drop the directory of the module at root: "pkg latch",
	// "pkg latch/store/sqlstore".
	prefix := ""
	for _, m := range mods {
		if m.Dir == root && path.Dir(m.Path) != "." {
			prefix = path.Dir(m.Path) + "/"
		}
	}
	inTree := func(importPath string) bool {
		return slices.ContainsFunc(mods, func(m *module) bool {
			return importPath == m.Path || strings.HasPrefix(importPath, m.Path+"/")
		})
	}
	hidden := func(obj *types.TypeName) bool {
		pkg := obj.Pkg()
		return pkg != nil && inTree(pkg.Path()) && (!obj.Exported() || isInternal(pkg.Path()))
	}
	files := map[string]string{}
	owner := map[string]string{}
	for _, m := range mods {
		if len(m.pkgs) == 0 {
			continue
		}
		name, err := fileName(root, m)
		if err != nil {
			return nil, err
		}
		if other, dup := owner[name]; dup {
			return nil, fmt.Errorf("modules %s and %s would share api file %s", other, m.Path, name)
		}
		owner[name] = m.Path
		var b strings.Builder
		for _, pkg := range m.pkgs {
			for _, f := range features(pkg, strings.TrimPrefix(pkg.Path(), prefix), hidden) {
				b.WriteString(f)
				b.WriteByte('\n')
			}
		}
		files[name] = b.String()
	}
	return files, nil
}

// readDir returns the API files in dir: name -> content. A missing
// directory holds none.
func readDir(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	} else if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".txt" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = string(b)
	}
	return files, nil
}

// writeDir makes dir hold exactly the given API files, removing those
// of modules that are gone.
func writeDir(dir string, files map[string]string) error {
	old, err := readDir(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name := range old {
		if _, keep := files[name]; !keep {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	for name, content := range files {
		if old[name] == content {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compare returns, for each file that differs between the committed
// files (in dirName) and the generated ones, a diff of its lines; none
// when they match.
func compare(dirName string, committed, generated map[string]string) []string {
	var names []string
	for name := range committed {
		names = append(names, name)
	}
	for name := range generated {
		if _, ok := committed[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var diffs []string
	for _, name := range names {
		old, inOld := committed[name]
		cur, inCur := generated[name]
		if old == cur {
			continue
		}
		file := path.Join(dirName, name)
		var note string
		switch {
		case !inOld:
			note = file + ": missing: a published module without its API file\n"
		case !inCur:
			note = file + ": no module publishes this API any more (the module is gone, or has no API package left)\n"
		}
		diffs = append(diffs, note+diff(file, old, cur))
	}
	return diffs
}

// diff compares two API files as sets of lines, which they are: the
// lines only the old one has with "-", those only the new one has with
// "+", in sorted order, under unified-diff headers.
func diff(file, old, cur string) string {
	oldLines, curLines := lines(old), lines(cur)
	inOld, inCur := set(oldLines), set(curLines)
	type change struct {
		sign byte
		line string
	}
	var changes []change
	for _, l := range oldLines {
		if !inCur[l] {
			changes = append(changes, change{'-', l})
		}
	}
	for _, l := range curLines {
		if !inOld[l] {
			changes = append(changes, change{'+', l})
		}
	}
	slices.SortStableFunc(changes, func(a, b change) int { return strings.Compare(a.line, b.line) })
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s (committed)\n+++ %s (the code)\n", file, file)
	if len(changes) == 0 {
		b.WriteString("  (the same lines, in another order or spacing)\n")
	}
	for _, c := range changes {
		b.WriteByte(c.sign)
		b.WriteString(c.line)
		b.WriteByte('\n')
	}
	return b.String()
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func set(lines []string) map[string]bool {
	m := make(map[string]bool, len(lines))
	for _, l := range lines {
		m[l] = true
	}
	return m
}
