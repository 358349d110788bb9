package storekit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/latchauth/latch/store"
)

// Gate is what every method of a store does around its backend: refuse a
// call on a done context or a closed store before any I/O, and name the
// store and the operation in its errors. A store keeps one in its struct,
// set up with a composite literal, and never copies it:
//
//	s := &Store{gate: storekit.Gate{Store: "kvstore", ErrClosed: ErrClosed, ErrInvalid: ErrInvalid}}
//
//	func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
//		if err := s.gate.EnterID(ctx, "get", id); err != nil {
//			return nil, err
//		}
//		…
type Gate struct {
	// Store names the store in errors, as "kvstore".
	Store string
	// ErrClosed is the store's error for a call after Close: an outage,
	// neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed error
	// ErrInvalid is the store's error for a value beyond its limits.
	ErrInvalid error

	closed   atomic.Bool
	once     sync.Once
	closeErr error
}

// Enter returns the error a call of op must fail with before any I/O: a
// done ctx (wrapping ctx.Err()), then a closed store (wrapping
// ErrClosed); nil when the call may go on.
func (g *Gate) Enter(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", g.Store, op, err)
	}
	if g.closed.Load() {
		return fmt.Errorf("%s: %s: %w", g.Store, op, g.ErrClosed)
	}
	return nil
}

// EnterID is Enter for a call on the session id: it also returns
// store.ErrNotFound, without asking the backend, when id cannot be a
// session id (store.ValidID).
func (g *Gate) EnterID(ctx context.Context, op, id string) error {
	if err := g.Enter(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	return nil
}

// EnterStrikes is Enter for a call of store.Throttle on keys: it also
// returns CheckStrikeKeys's error, before any I/O, so that a refused call
// changes nothing.
func (g *Gate) EnterStrikes(ctx context.Context, op string, keys ...string) error {
	if err := g.Enter(ctx, op); err != nil {
		return err
	}
	return g.CheckStrikeKeys(keys...)
}

// EnterBeat is Enter for store.Watcher.Beat: it also refuses, before any
// I/O, an id that is not ValidBeat.
func (g *Gate) EnterBeat(ctx context.Context, op, id string) error {
	if err := g.Enter(ctx, op); err != nil {
		return err
	}
	if !ValidBeat(id) {
		return g.Invalid(fmt.Errorf("beat id must be 1 to %d bytes of printable ASCII", store.MaxBeatLen))
	}
	return nil
}

// EnterSession is Enter for a call that writes s, as Create does: it
// also returns CheckSession's error.
func (g *Gate) EnterSession(ctx context.Context, op string, s *store.Session) error {
	if err := g.Enter(ctx, op); err != nil {
		return err
	}
	return g.CheckSession(s)
}

// EnterRotation is EnterID for a call that applies r to the session id,
// as Rotate does: it also returns CheckRotation's error.
func (g *Gate) EnterRotation(ctx context.Context, op, id string, r *store.Rotation) error {
	if err := g.EnterID(ctx, op, id); err != nil {
		return err
	}
	return g.CheckRotation(r)
}

// Close closes the gate, so every later Enter fails with ErrClosed, then
// runs release (nil for none), once: what the store holds (a sweeper, a
// client it opened). Every call returns release's error, once release
// has returned, so a store's Close is idempotent:
//
//	func (s *Store) Close() error { return s.gate.Close(s.release) }
func (g *Gate) Close(release func() error) error {
	g.once.Do(func() {
		g.closed.Store(true)
		if release != nil {
			g.closeErr = release()
		}
	})
	return g.closeErr
}

// Closed reports whether Close was called.
func (g *Gate) Closed() bool { return g.closed.Load() }

// Wrap returns err, from the backend during op, as the store's error:
// prefixed with the store and op, and, when ctx is done, wrapping
// ctx.Err() too, so that errors.Is(err, context.Canceled) holds whatever
// the backend made of the cancellation. nil stays nil. Backend errors
// carry no bound values, so no hash or token leaks through them.
func (g *Gate) Wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %s: %w: %w", g.Store, op, cerr, err)
	}
	return fmt.Errorf("%s: %s: %w", g.Store, op, err)
}

// Invalid returns err as the store's ErrInvalid (wrapping both); nil
// stays nil.
func (g *Gate) Invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidErr(g.ErrInvalid, err)
}

// CheckSession returns, as the store's ErrInvalid, the first value of s
// beyond the limits of package store, or nil: a nil session, a subject
// that is not ValidSubject, a device field longer than
// store.MaxDeviceLen, a hash (spent ones included) longer than
// store.HashLen. A store checks them before writing, so that no backend
// truncates or refuses them halfway.
func (g *Gate) CheckSession(s *store.Session) error {
	if s == nil {
		return g.Invalid(errors.New("nil session"))
	}
	return g.Invalid(checkSession(s))
}

func checkSession(s *store.Session) error {
	if !ValidSubject(s.Subject) {
		return fmt.Errorf("subject must be valid UTF-8 without NUL, at most %d bytes", store.MaxSubjectLen)
	}
	for _, f := range []string{s.Device.Label, s.Device.UserAgent, s.Device.IP} {
		if len(f) > store.MaxDeviceLen {
			return fmt.Errorf("device field longer than %d bytes", store.MaxDeviceLen)
		}
	}
	for _, h := range append([][]byte{s.SecretHash, s.RefreshHash}, s.Spent...) {
		if len(h) > store.HashLen {
			return fmt.Errorf("hash longer than %d bytes", store.HashLen)
		}
	}
	if a := s.Actor; a != nil && (!ValidSubject(a.Subject) || len(a.SessionID) > store.IDLen || !ValidSubject(a.SessionID)) {
		return fmt.Errorf("actor must have a valid subject and a session id of at most %d bytes", store.IDLen)
	}
	return nil
}

// CheckRotation is CheckSession for the hashes a Rotation writes (an Old
// longer than store.HashLen is no error: it matches no stored hash).
func (g *Gate) CheckRotation(r *store.Rotation) error {
	for _, h := range [][]byte{r.RefreshHash, r.SecretHash} {
		if len(h) > store.HashLen {
			return g.Invalid(fmt.Errorf("hash longer than %d bytes", store.HashLen))
		}
	}
	return nil
}

// ValidSubject reports whether subject is within the limits of package
// store: valid UTF-8, no NUL, at most store.MaxSubjectLen bytes. A store
// that refuses other subjects in Create can never have stored one, so it
// may answer a lookup by one without asking its backend.
func ValidSubject(subject string) bool {
	if len(subject) > store.MaxSubjectLen || !utf8.ValidString(subject) {
		return false
	}
	return strings.IndexByte(subject, 0) < 0
}

// CheckStrikeKeys returns, as the store's ErrInvalid, an error for the
// first of keys that is not ValidStrikeKey, or nil. The error does not
// quote the key.
func (g *Gate) CheckStrikeKeys(keys ...string) error {
	for _, k := range keys {
		if !ValidStrikeKey(k) {
			return g.Invalid(fmt.Errorf("strike key must be 1 to %d bytes of printable ASCII", store.MaxStrikeKeyLen))
		}
	}
	return nil
}

// ValidStrikeKey reports whether key is a store.Throttle key: 1 to
// store.MaxStrikeKeyLen bytes of printable ASCII (space to tilde).
func ValidStrikeKey(key string) bool { return printable(key, store.MaxStrikeKeyLen) }

// ValidBeat reports whether id is a valid store.Watcher.Beat id:
// printable ASCII, 1 to store.MaxBeatLen bytes.
func ValidBeat(id string) bool { return printable(id, store.MaxBeatLen) }

// printable reports whether s is 1 to max bytes of printable ASCII.
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
