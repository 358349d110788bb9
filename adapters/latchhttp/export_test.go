package latchhttp

import (
	"crypto/subtle"
	"reflect"
	"sync/atomic"
)

// What the side-channel tests count: comparisons of secrets (CSRF values,
// client credentials) and the ones among them whose arguments differ in
// length, since the test binary started. init wraps secretCompare once,
// before any test runs. The counters are global, so no test in this
// package may call t.Parallel (TestNoParallelTests).
var compares, mismatched atomic.Int64

// CompareIsConstantTime reports whether secretCompare, before init wrapped
// it, was subtle.ConstantTimeCompare.
var CompareIsConstantTime = reflect.ValueOf(secretCompare).Pointer() == reflect.ValueOf(subtle.ConstantTimeCompare).Pointer()

func init() {
	compare := secretCompare
	secretCompare = func(a, b []byte) int {
		compares.Add(1)
		if len(a) != len(b) {
			// subtle.ConstantTimeCompare returns at once on a length
			// mismatch: such a comparison costs next to nothing.
			mismatched.Add(1)
		}
		return compare(a, b)
	}
}

// Work is the secret comparisons latchhttp has made since the test binary
// started, Mismatched of them between arguments of different lengths.
type Work struct{ Compares, Mismatched int64 }

// DoneWork returns the work done so far; tests take differences.
func DoneWork() Work { return Work{compares.Load(), mismatched.Load()} }

// ConfigFrom is ConfigFromEnv reading from lookup instead of the
// environment.
func ConfigFrom(lookup func(string) (string, bool)) (Config, error) { return configFrom(lookup) }
