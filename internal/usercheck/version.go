package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// releaseVersion returns the version being released: the one at which
// the published modules require latch modules (the core, and any other).
// They must all agree on one, and it must be a real release version,
// since no replace reaches a user; the proxy then serves every published
// module at it.
func releaseVersion(root string, published []mod) (string, error) {
	seen := map[string][]string{} // version -> "module requires path"
	for _, m := range published {
		file := filepath.Join(root, m.Dir, "go.mod")
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		f, err := modfile.ParseLax(file, data, nil)
		if err != nil {
			return "", err
		}
		for _, r := range f.Require {
			if r.Mod.Path == corePath || strings.HasPrefix(r.Mod.Path, corePath+"/") {
				seen[r.Mod.Version] = append(seen[r.Mod.Version], m.Path+" requires "+r.Mod.Path)
			}
		}
	}
	versions := slices.Sorted(maps.Keys(seen))
	switch {
	case len(versions) == 0:
		return "", fmt.Errorf("no published module requires a latch module: nothing says which version is being released")
	case len(versions) > 1:
		var b strings.Builder
		for _, v := range versions {
			fmt.Fprintf(&b, "\n\t%s: %s", v, strings.Join(seen[v], ", "))
		}
		return "", fmt.Errorf("the published modules require latch modules at different versions; one release needs one:%s", b.String())
	}
	v := versions[0]
	if !semver.IsValid(v) || module.IsPseudoVersion(v) || semver.Compare(v, "v0.0.0") == 0 {
		return "", fmt.Errorf("the published modules require latch modules at %s, which is no release version (%s)", v, strings.Join(seen[v], ", "))
	}
	return v, nil
}
