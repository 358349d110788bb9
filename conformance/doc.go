// Package conformance is the test suite every store.Store runs to show it
// honours the contract written on store.Store: latch's own stores
// (memstore, SQL, Redis, MongoDB) and yours.
//
// A store's test is its connection setup and one call:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T) store.Store {
//			return newIsolatedStore(t) // empty, and shares nothing with other calls
//		}, conformance.WithBroken(func(t *testing.T) store.Store {
//			return storeOnADeadAddress(t) // every call must fail
//		}))
//	}
//
// Run runs one named subtest per rule, each on a fresh store from
// newStore, and reports failures through t.Errorf naming the rule. Rule
// names are stable, so `go test -run 'TestConformance/rotate-'` selects a
// group. newStore must return an empty store that shares no state with any
// other call's: its own key prefix, table prefix, schema or database, and
// never a TRUNCATE or FLUSHDB of a server that other tests use. Register
// its clean-up with t.Cleanup.
//
// The suite's clock starts at the real time, truncated to the millisecond,
// and every instant it passes (a now, a CreatedAt) is at or after that
// start, so a backend may derive relative TTLs from them. Expiry is tested
// by moving the clock, never by sleeping. Concurrency rules (64 rotations
// racing from one refresh hash, 32 logins racing against a session cap,
// touches and rotations racing revocations) run real goroutines against
// the store and time each call; each repeats its race in rounds until
// several rounds have raced (calls were in flight together) or a second
// has passed, so that a racy store cannot pass because the scheduler
// happened not to interleave its calls. Run the tests with -race too.
//
// The rules of the optional store.Throttle (named throttle-) run on
// stores that implement it, and are left out, as the summary says, for
// the others. WithTwin lets the rule that strikes are counted atomically
// race two store values on the same backend, as two processes would.
//
// The rules of the optional store.Watcher (named watch-) run on stores
// that report their changes (Watches true), and are left out for the
// others; with WithTwin the changes are watched from the twin, and each
// must be reported within ReportWithin.
//
// Each Run ends with a line such as
//
//	conformance: TestConformance/postgres: 63 rules ran, 63 passed
//
// logged through t.Logf.
package conformance
