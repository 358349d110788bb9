package walkthrough

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// defaultDataDir is the data directory when LATCH_DATA_DIR is unset,
// relative to the working directory.
const defaultDataDir = "latch-data"

// Names of the generated secrets in the data directory: the JWT secret
// and the session key.
const (
	secretFile     = "jwt-secret"
	sessionKeyFile = "session-key"
)

// dataDir is where the server keeps what must survive a restart: the
// SQLite database of sessions and the generated JWT secret. Every path under it
// is made here, and the directory itself is created (mode 0700) only when
// something is first written to it; an existing one is used only if no
// other user can write to it.
type dataDir string

// newDataDir returns the data directory at path, or the default one.
func newDataDir(path string) dataDir {
	if path == "" {
		path = defaultDataDir
	}
	return dataDir(path)
}

// file returns the path of name inside d.
func (d dataDir) file(name string) string { return filepath.Join(string(d), name) }

// ensure creates d, private to its owner, unless it exists; an existing d
// must be one no other local user can write to (see trust). created
// reports whether it made d.
func (d dataDir) ensure() (created bool, err error) {
	fi, err := os.Stat(string(d))
	switch {
	case err == nil:
		return false, d.trust(fi)
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return false, fmt.Errorf("data directory: %w", err)
	}
	return true, nil
}

// trust refuses an existing data directory that another local user could
// write to: one that is group- or other-writable, or (on Unix) owned by
// another user. Whoever can write there can plant sessions.db, and with it
// sessions that opaque tokens verify against, or a JWT secret of theirs.
func (d dataDir) trust(fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", d)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("data directory %s has mode %04o: other users could write to it and plant sessions or a JWT secret; "+
			"run chmod go-w %s, or set LATCH_DATA_DIR to a directory of your own", d, fi.Mode().Perm(), d)
	}
	if uid, ok := ownerUID(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("data directory %s belongs to uid %d, not to this process's uid %d: its owner could plant sessions or a JWT secret; "+
			"set LATCH_DATA_DIR to a directory of your own", d, uid, os.Getuid())
	}
	return nil
}

// sessionsFile is the name of the SQLite database in the data directory.
const sessionsFile = "sessions.db"

// storeURL is the session store used when LATCH_STORE is unset: an SQLite
// file in d, so sessions survive a restart. It creates d if need be, since
// SQLite creates the file but not its directory, and creates the file
// itself, empty and private to its owner (mode 0600; SQLite would follow
// the umask, and gives its journal files the database's mode). undo
// removes what it created, if it is still empty: for a start that is
// refused before the store is opened.
func (d dataDir) storeURL() (u string, undo func(), err error) {
	path := d.file(sessionsFile)
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("data directory: %w", err)
	}
	dirCreated, err := d.ensure()
	if err != nil {
		return "", nil, err
	}
	fileCreated := false
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		fileCreated = true
		err = f.Close()
	case errors.Is(err, fs.ErrExist):
		// A file from an earlier version may be readable by others: it
		// holds subjects, IPs and user agents.
		err = tighten(path)
	}
	undo = func() {
		if fi, err := os.Stat(path); fileCreated && err == nil && fi.Size() == 0 {
			os.Remove(path)
		}
		if dirCreated {
			os.Remove(string(d)) // only if empty
		}
	}
	if err != nil {
		undo()
		return "", nil, fmt.Errorf("data directory: %w", err)
	}
	// Built as a URL, so that any character of the path survives.
	return (&url.URL{Scheme: "sqlite", Path: filepath.ToSlash(abs)}).String(), undo, nil
}

// tighten makes the file at path private to its owner (mode 0600) if it
// is not already.
func tighten(path string) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return err
	}
	return os.Chmod(path, fi.Mode().Perm()&0o700)
}

// secret returns the base64 secret kept in d's file name, generating size
// random bytes on first use. The file is written whole or not at all (a temporary
// file linked into place), so two servers starting at once agree on one
// secret. created reports whether this call made it.
func (d dataDir) secret(name string, size int) (secret string, created bool, err error) {
	// Nothing is read from a directory others could have written to.
	if _, err := d.ensure(); err != nil {
		return "", false, err
	}
	path := d.file(name)
	secret, err = readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, false, err
	}
	b := make([]byte, size)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	secret = base64.StdEncoding.EncodeToString(b)
	err = writeNewFile(path, []byte(secret+"\n"))
	if errors.Is(err, fs.ErrExist) { // another process was first: use its secret
		secret, err = readSecret(path)
		return secret, false, err
	}
	if err != nil {
		return "", false, err
	}
	return secret, true, nil
}

// readSecret reads a secret file, refusing one that others may read.
func readSecret(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s has mode %04o: others could read the secret; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	// Errors from here on never quote the file's content.
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty: delete it to generate a new secret", path)
	}
	return s, nil
}

// writeNewFile creates path with content and mode 0600 atomically: a
// temporary file in the same directory is written, synced and hard-linked
// to path, which fails with fs.ErrExist if path already exists.
func writeNewFile(path string, content []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(content)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp, path)
}
