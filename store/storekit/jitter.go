package storekit

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Jitter returns a random duration in [0, n), or 0 when n <= 0, for the
// pauses between a store's retries: contenders that back off by
// different amounts stop colliding. It reads crypto/rand: latch uses no
// other source of randomness, so nobody has to check which use is which.
func Jitter(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(n))
}
