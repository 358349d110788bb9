package latch

import (
	"crypto/subtle"
	"reflect"
	"sync/atomic"
)

// What the side-channel tests count: secret comparisons, the ones among
// them whose arguments differ in length, and hashes of presented secrets,
// since the test binary started. init wraps the hooks once, before any test
// runs, so no test swaps them under another.
//
// The counters are global: a test reads them before and after a call and
// takes the difference, which is only that call's work while no other test
// runs at the same time. So no test in this package may call t.Parallel;
// TestNoParallelTests enforces it.
var (
	compares   atomic.Int64
	mismatched atomic.Int64
	hashes     atomic.Int64
)

// CompareIsConstantTime reports whether secretCompare, before init wrapped
// it, was subtle.ConstantTimeCompare.
var CompareIsConstantTime = reflect.ValueOf(secretCompare).Pointer() == reflect.ValueOf(subtle.ConstantTimeCompare).Pointer()

func init() {
	compare, hash, parse := secretCompare, hashSecret, parseOpaque
	secretCompare = func(a, b []byte) int {
		compares.Add(1)
		if len(a) != len(b) {
			// subtle.ConstantTimeCompare returns at once on a length
			// mismatch: such a comparison costs next to nothing, so
			// counting it as one would hide a missing dummy hash.
			mismatched.Add(1)
		}
		return compare(a, b)
	}
	hashSecret = func(secret string) []byte {
		hashes.Add(1)
		return hash(secret)
	}
	parseOpaque = func(tok, prefix string) (string, []byte, error) {
		id, h, err := parse(tok, prefix)
		if h != nil {
			hashes.Add(1) // ParseOpaque hashed the secret it returns the hash of
		}
		return id, h, err
	}
}

// Work is the secret comparisons (Mismatched of them between arguments of
// different lengths) and the hashes of presented secrets latch has done
// since the test binary started.
type Work struct{ Compares, Mismatched, Hashes int64 }

// DoneWork returns the work done so far; tests take differences.
func DoneWork() Work { return Work{compares.Load(), mismatched.Load(), hashes.Load()} }

// ConfigFrom is ConfigFromEnv reading from lookup instead of the
// environment.
func ConfigFrom(lookup func(string) (string, bool)) (Config, error) { return configFrom(lookup) }

// CacheTrusted reports whether a's session cache serves entries now.
func CacheTrusted(a *Auth) bool {
	c := a.sessions.cache
	return c != nil && c.sinceStart() < c.trusted.Load()
}
