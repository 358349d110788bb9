package redisstore

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/latchauth/latch/internal/opaquebench"
)

// BenchmarkOpaque measures an opaque access token's authentication on a
// single Redis against a hand-written GET of the same session on the same
// client (docs/performance.md, "Opaque tokens against a hand-written
// lookup"):
//
//	go test -run '^$' -bench Opaque -benchmem ./store/redisstore
//
// The client is the tests' (ContextTimeoutEnabled, so the store is
// store.Bounded and latch calls it directly).
func BenchmarkOpaque(b *testing.B) {
	s := newStore(b, topologies[0].client(b))
	opaquebench.Run(b, s, func(*testing.B, []string) opaquebench.Lookup {
		return func(ctx context.Context, id string) (string, []byte, error) {
			v, err := s.c.Get(ctx, s.sessionKey(id)).Bytes()
			if err != nil {
				return "", nil, err
			}
			return secretHashOf(v)
		}
	})
}

// secretHashOf reads a stored session's subject and secret hash as a user
// would who wrote the format (encode.go) by hand: past the header, the
// subject, the device and claims section and the refresh hash.
func secretHashOf(v []byte) (subject string, hash []byte, err error) {
	if len(v) < headerLen+2 {
		return "", nil, errCorrupt
	}
	v = v[headerLen:]
	n := int(binary.BigEndian.Uint16(v))
	if len(v) < 2+n+4 {
		return "", nil, errCorrupt
	}
	subject, v = string(v[2:2+n]), v[2+n:]
	n = int(binary.BigEndian.Uint32(v))
	if len(v) < 4+n+1 {
		return "", nil, errCorrupt
	}
	v = v[4+n:]
	n = int(v[0]) // the refresh hash
	if len(v) < 1+n+1 {
		return "", nil, errCorrupt
	}
	v = v[1+n:]
	n = int(v[0])
	if len(v) < 1+n {
		return "", nil, errCorrupt
	}
	return subject, v[1 : 1+n], nil
}
