package storekit

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// shortSecret is the length under which a secret is hidden only where it
// stands as a password stands in a URL, between ':' and '@': a shorter
// one would match ordinary words of a message, garbling it.
const shortSecret = 6

// Redact returns err unchanged when none of secrets appears in its text
// or in the text of any error it wraps. Otherwise it returns an error
// whose text is err's with each secret replaced by "xxxxx", for which
// errors.Is matches every error err's chain does (ErrInvalid, a context's
// error, …), and which unwraps to nothing: no error that holds a secret
// can be reached through it. A secret shorter than 6 bytes is replaced
// only as ":secret@", where a URL holds a password. Empty secrets are
// ignored, and a nil err stays nil.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var hide []replacement
	for _, s := range secrets {
		r := replacement{s, "xxxxx"}
		if len(s) < shortSecret {
			r = replacement{":" + s + "@", ":xxxxx@"}
		}
		if s != "" && !slices.Contains(hide, r) {
			hide = append(hide, r)
		}
	}
	// The longest first: a URL is hidden whole, not around its password.
	slices.SortFunc(hide, func(a, b replacement) int { return cmp.Compare(len(b.old), len(a.old)) })
	if !chainHolds(err, hide) {
		return err
	}
	return &redacted{err: err, hide: hide}
}

// replacement is a secret as it is looked for, and what replaces it.
type replacement struct{ old, new string }

// chainHolds reports whether the text of err, or of an error it wraps,
// holds one of hide.
func chainHolds(err error, hide []replacement) bool {
	if err == nil {
		return false
	}
	text := err.Error()
	for _, r := range hide {
		if strings.Contains(text, r.old) {
			return true
		}
	}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		return chainHolds(e.Unwrap(), hide)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			if chainHolds(x, hide) {
				return true
			}
		}
	}
	return false
}

// redacted is an error with secrets hidden in its text.
type redacted struct {
	err  error
	hide []replacement
}

func (e *redacted) Error() string {
	s := e.err.Error()
	for _, r := range e.hide {
		s = strings.ReplaceAll(s, r.old, r.new)
	}
	return s
}

// Is lets errors.Is see the whole chain without handing it out.
func (e *redacted) Is(target error) bool { return errors.Is(e.err, target) }
