package latch

import (
	"crypto/rand"
	"crypto/subtle"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
)

// dummyHash is what an unknown session's secret is compared with, so a
// wrong id and a wrong secret cost the same work.
var dummyHash = func() []byte {
	b := make([]byte, store.HashLen)
	rand.Read(b)
	return b
}()

// Every comparison of a secret (a presented secret's hash with a stored
// one) goes through secretCompare, and
// every hash of a presented secret through hashSecret or parseOpaque, so
// that tests can count that an unknown session costs the same work as a
// wrong secret (export_test.go wraps them once, before any test runs).
var (
	// secretCompare returns 1 when a and b are equal, 0 otherwise, in a
	// time that depends only on their lengths.
	secretCompare = subtle.ConstantTimeCompare
	hashSecret    = opaque.HashSecret
	// parseOpaque hashes the secret of every well-formed token it accepts.
	parseOpaque = opaque.Parse
)
