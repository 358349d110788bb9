package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	modzip "golang.org/x/mod/zip"
)

// mod is a module of the repository.
type mod struct {
	Path string // module path
	Dir  string // directory, relative to the repository, "." for the root
}

// published reports whether m is released: every module except those
// under examples/ and any internal/ directory (tools and test helpers).
func (m mod) published() bool {
	elems := strings.Split(filepath.ToSlash(m.Dir), "/")
	return elems[0] != "examples" && !slices.Contains(elems, "internal")
}

// findModules returns the modules of the repository at root, the root
// module first, then by path.
func findModules(root string) ([]mod, error) {
	var mods []mod
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skippedDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mp := modfile.ModulePath(data)
		if mp == "" {
			return fmt.Errorf("%s: no module path", p)
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		mods = append(mods, mod{Path: mp, Dir: filepath.ToSlash(rel)})
		return nil
	})
	// The core first, then by path.
	slices.SortFunc(mods, func(a, b mod) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.Path, b.Path))
	})
	return mods, err
}

// rank sorts the root module first.
func rank(m mod) int {
	if m.Dir == "." {
		return 0
	}
	return 1
}

// skippedDir reports whether a directory of this name holds no module
// source: testdata, vendor, and hidden or underscore directories, as the
// go command sees them.
func skippedDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// moduleFiles returns the files of the module in dir that go into its
// zip: what git tracks there, or would track (untracked files that no
// .gitignore excludes, so the working tree is checked before a commit),
// less nested modules, vendored packages and the like (modzip.Create
// leaves those out). Outside a git work tree it is every file under dir.
// A nested module without a LICENSE gets the repository's, as the go
// command does when it serves a module from a subdirectory.
func moduleFiles(root, dir string) ([]modzip.File, error) {
	abs := filepath.Join(root, dir)
	names, err := gitFiles(abs)
	if err != nil {
		if names, err = walkFiles(abs); err != nil {
			return nil, err
		}
	}
	var files []modzip.File
	haveLicense := false
	for _, name := range names {
		fp := filepath.Join(abs, filepath.FromSlash(name))
		info, err := os.Lstat(fp)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		files = append(files, diskFile{name: name, path: fp, info: info})
		haveLicense = haveLicense || name == "LICENSE"
	}
	if !haveLicense && dir != "." {
		fp := filepath.Join(root, "LICENSE")
		if info, err := os.Lstat(fp); err == nil && info.Mode().IsRegular() {
			files = append(files, diskFile{name: "LICENSE", path: fp, info: info})
		}
	}
	return files, nil
}

// gitFiles lists the files git tracks or would track under dir, relative
// to it, slash-separated.
func gitFiles(dir string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var names []string
	for name := range strings.SplitSeq(string(out), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil // a file both tracked and modified is listed once
}

// walkFiles lists every file under dir, relative to it, slash-separated,
// skipping version control directories.
func walkFiles(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".hg", ".svn", ".bzr":
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	return names, err
}

// diskFile is a file of the tree, as modzip reads it.
type diskFile struct {
	name, path string
	info       os.FileInfo
}

func (f diskFile) Path() string                 { return f.name }
func (f diskFile) Lstat() (os.FileInfo, error)  { return f.info, nil }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.path) }

// importable returns the import paths of the packages in files (what the
// module's zip holds) that another module may import: not main, not under
// internal/ or testdata/, buildable here. root/dir is the module's
// directory on disk.
func importable(modPath, moduleDir string, files []modzip.File) ([]string, error) {
	checked, err := modzip.CheckFiles(files)
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for _, name := range checked.Valid {
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		d := path.Dir(name)
		if hiddenFromUsers(d) {
			continue
		}
		dirs[d] = true
	}
	var pkgs []string
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		p, err := build.ImportDir(filepath.Join(moduleDir, filepath.FromSlash(d)), 0)
		if _, none := errors.AsType[*build.NoGoError](err); none {
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.Name == "main" {
			continue
		}
		pkgs = append(pkgs, path.Join(modPath, d))
	}
	return pkgs, nil
}

// hiddenFromUsers reports whether a package in directory d (relative to
// its module) is out of an outside user's reach or is no package at all.
func hiddenFromUsers(d string) bool {
	if d == "." {
		return false
	}
	for _, e := range strings.Split(d, "/") {
		if e == "internal" || skippedDir(e) {
			return true
		}
	}
	return false
}
