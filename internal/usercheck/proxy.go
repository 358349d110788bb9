package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// writeModule adds mv to the file-system module proxy at proxy, in the
// layout GOPROXY=file://proxy reads: $module/@v/list, $version.info,
// $version.mod (gomod, the module's go.mod) and $version.zip (made of
// files, which modzip.Create filters as the go command does).
func writeModule(proxy string, mv module.Version, gomod []byte, files []modzip.File, at time.Time) error {
	escPath, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	escVer, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return err
	}
	dir := filepath.Join(proxy, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, at.UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"list":           []byte(mv.Version + "\n"),
		escVer + ".info": info,
		escVer + ".mod":  gomod,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	z, err := os.Create(filepath.Join(dir, escVer+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.Create(z, mv, files); err != nil {
		z.Close()
		return fmt.Errorf("zip of %s: %w", mv, err)
	}
	return z.Close()
}
