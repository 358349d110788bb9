package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrInvalid: a Session or Rotation holds a value beyond the limits of
	// package store (a subject that is not valid UTF-8, holds NUL or is
	// longer than store.MaxSubjectLen; a device field longer than
	// store.MaxDeviceLen; a hash longer than store.HashLen; a time beyond
	// the range of BSON dates; claims encoding/json cannot encode), an
	// option is out of range, or a URL is not one Open takes. Nothing was
	// written.
	ErrInvalid = errors.New("mongostore: invalid value")
	// ErrClosed is returned by every method of a Store after Close: an
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed = errors.New("mongostore: store closed")
)

// Server error codes the store tells apart.
const (
	codeNotImplemented      = 238 // NotImplemented: FerretDB, for expireAfterSeconds
	codeCommandNotSupported = 115 // CommandNotSupported
)

// wrap turns a driver error from operation op into this package's error.
// When ctx is done the error wraps ctx.Err() as well, so errors.Is(err,
// context.Canceled) holds whatever the driver made of the cancellation.
// Driver errors never carry the documents written or the filters sent,
// and the only values a duplicate-key message can name are _ids (session
// ids and generation numbers), so no hash or token leaks through them.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("mongostore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

// ctxErr returns a wrapped ctx.Err() when ctx is done: every method checks
// it first, so a done context never reaches the server.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
	return nil
}

// hasCode reports whether err is a server error with one of codes.
func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}

// redacted hides secrets (a password, a whole URL) in an error's text while
// keeping the error chain for errors.Is.
type redacted struct {
	err     error
	secrets []string
}

func (e *redacted) Error() string {
	s := e.err.Error()
	for _, x := range e.secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "xxxxx")
		}
	}
	return s
}

func (e *redacted) Unwrap() error { return e.err }

func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err, secrets: secrets}
}
