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
//   - Sweeper, the loop that clears dead sessions in the background;
//   - Register, which makes a store's Open the opener of its URL schemes;
//   - Jitter, for the pauses between retries.
//
// It needs nothing beyond the standard library and package store.
package storekit
