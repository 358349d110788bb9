package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// latchInCache are the places a module cache keeps latch's modules: the
// unpacked modules and the downloads (module paths are escaped there, but
// latch's need no escaping).
var latchInCache = []string{"github.com/latchauth", "cache/download/github.com/latchauth"}

// privateModCache makes dir a module cache that is the shared one in
// everything but latch's modules. Each entry of shared is linked into
// dir, except that the directories on the way to latchInCache are real
// ones, filled the same way, and latchInCache themselves are left out.
// So the go command finds every other module where earlier runs (and
// builds) put it, unpacked, and writes what it downloads for them there,
// as it would with the shared cache; but it has never seen a latch
// module, and takes each from this run's proxy.
func privateModCache(dir, shared string) error {
	return linkExcept(shared, dir, latchInCache)
}

// linkExcept fills dst with a symbolic link to each entry of src, except
// the paths (slash-separated, relative to src) in except: it leaves them
// out, and makes each directory on the way to one a real directory,
// filled in turn. A missing src leaves dst empty.
func linkExcept(src, dst string, except []string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		excluded := false
		var deeper []string
		for _, x := range except {
			first, rest, nested := strings.Cut(x, "/")
			switch {
			case first != name:
			case nested:
				deeper = append(deeper, rest)
			default:
				excluded = true
			}
		}
		s, d := filepath.Join(src, name), filepath.Join(dst, name)
		switch {
		case excluded:
		case len(deeper) > 0 && e.IsDir():
			err = linkExcept(s, d, deeper)
		default:
			err = os.Symlink(s, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removeAll removes dir, whose module cache the go command made
// read-only. It makes dir's own directories writable first; symbolic
// links are neither followed nor their targets touched.
func removeAll(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			err = os.Chmod(p, 0o755)
		}
		return err
	})
	return errors.Join(err, os.RemoveAll(dir))
}
