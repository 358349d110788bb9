// Package testhook lets the tests of this module watch what latch does
// where no public API shows it. Only tests set its variables.
package testhook

// Issued, when set, sees every pair of tokens latch mints (refresh is ""
// when none), so a test can check that none of them reaches a log line or
// an error message. Set it before any test runs (in TestMain).
var Issued func(access, refresh string)
