// Package storekit holds what latch's stores have in common, for the
// stores of this repository and for anyone writing a store.Store of their
// own:
//
//   - Options, the settings every store shares (an error hook, a clock, a
//     sweep interval and grace), with the functions that set them and Apply,
//     which runs a store's options and names the store's ErrInvalid on a
//     refusal;
//   - URLSpec and Configure, the start of every store's Open: a store URL
//     checked against the store's schemes, its latch_ parameters taken out
//     and turned into settings, and nothing of the URL in any error;
//   - Redact, for errors whose text may quote a URL, a password or a key;
//   - Gate, what every method of a store does around its backend: refuse a
//     done context or a closed store before any I/O, check what it is
//     asked to write against the limits of package store (ValidSubject,
//     ValidStrikeKey),
//     and name the store and the operation in its errors;
//   - Sweeper, the loop that clears dead sessions in the background;
//   - Backoff and Jitter, for the retries of a call that lost a race;
//   - Register, which makes a store's Open the opener of its URL schemes.
//
// It needs nothing beyond the standard library and package store. The
// example is a store's configuration and the start of its Open.
package storekit
