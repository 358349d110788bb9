// Package configfile reads latch's JSON configuration file, which the
// core and the HTTP adapter share: the core reads every member but "http",
// package latchhttp reads "http" alone, each refusing what it does not
// know in its own part.
package configfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// MaxSize bounds a configuration file.
const MaxSize = 1 << 20

// EnvVar names the environment variable that points at the file.
const EnvVar = "LATCH_CONFIG_FILE"

// Read returns the members of the JSON object in the file at path. Errors
// start with "config file <path>" and never quote the file's contents.
func Read(path string) (map[string]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("config file %s is over 1 MiB", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("config file %s: trailing data after the JSON object", path)
	}
	if members == nil {
		return nil, fmt.Errorf("config file %s: not a JSON object", path)
	}
	return members, nil
}

// Decode decodes raw into v, refusing unknown fields, so a misspelt
// setting is not silently ignored.
func Decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
