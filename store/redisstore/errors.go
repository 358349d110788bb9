package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrInvalid: a Session or Rotation holds a value beyond the limits of
	// package store (a subject that is not valid UTF-8, holds NUL or is
	// longer than store.MaxSubjectLen; a device field longer than
	// store.MaxDeviceLen; a hash longer than store.HashLen; a time beyond
	// 2^53 Unix milliseconds, about 285,000 years either side of 1970;
	// claims encoding/json cannot encode; an Actor field longer than
	// 65,535 bytes), a throttle key that is empty, longer than
	// store.MaxStrikeKeyLen or not printable ASCII, a strike ttl that is
	// not positive, or an option or URL parameter is out of range.
	// Nothing was written.
	ErrInvalid = errors.New("redisstore: invalid value")
	// ErrClosed is returned by every method of a Store after Close: an
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed = errors.New("redisstore: store closed")
	// ErrRoutingKey: Get read a session whose id carries a routing tag
	// that none of the Store's routing keys gives its subject. It was
	// created by a process with another routing key, so this Store's
	// RevokeSubject and List would miss it: configure every process
	// sharing the key prefix with the same keys (WithRoutingKey). An
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrRoutingKey = errors.New("redisstore: session created under an unknown routing key")
)

// errCorrupt: a stored value (a session, a strike record) that this
// package did not write, or cut short. An outage, neither
// store.ErrNotFound nor store.ErrConflict.
var errCorrupt = errors.New("redisstore: corrupt stored value")

// wrap turns a client error from operation op into this package's error
// (see storekit.Gate.Wrap). A call in flight when an owned client was
// closed fails with ErrClosed, like every later call. Redis errors never
// carry a command's arguments, so no hash or token can leak through them.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if errors.Is(err, redis.ErrClosed) && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return s.gate.Wrap(ctx, op, err)
}
