// Package latch authenticates users with per-device sessions and tokens
// that are opaque, JWT or both, chosen by configuration alone.
//
// Every login is its own session: a user can list their devices, end one,
// end all, or end all but the current one, and logging in on one device
// never logs out another. The store keeps only SHA-256 hashes of secrets,
// refresh tokens rotate atomically on every use, and a spent refresh token
// that comes back (past a short grace for concurrent refreshes) revokes its
// session.
//
// Three modes, one API:
//
//   - opaque: random 256-bit tokens (lta_…, ltr_…) checked against the
//     store on every request; revocation is immediate.
//   - jwt: signed JWT access and refresh tokens; access tokens verify
//     without the store unless Config.SessionCheck is on.
//   - hybrid: short-lived JWT access tokens, opaque refresh tokens.
//
// This package is the core: configuration, login, authentication,
// refresh, sessions, revocation, errors and events. It knows nothing of
// HTTP: package github.com/latchauth/latch/adapters/latchhttp serves it
// over net/http, and latchgin, latchecho5 and latchecho over gin and echo.
//
//	// SessionKey: base64 of 32 random bytes (openssl rand -base64 32),
//	// required in every mode; ConfigFromEnv reads LATCH_SESSION_KEY.
//	auth, err := latch.New(ctx, latch.Config{Mode: latch.ModeOpaque, SessionKey: key})
//	if err != nil { ... }
//	// after checking the password:
//	tokens, err := auth.Login(ctx, user.ID, latch.LoginOptions{Device: device})
//	// on each request:
//	p, err := auth.Authenticate(ctx, tokens.AccessToken, latch.Requirement{})
//
// Errors match the kinds in errors.go with errors.Is; the adapters map
// each kind to an answer. Every login, refresh, logout, revocation and
// refusal is an Event (WithEventHook, WithLogger).
//
// Stores register a URL scheme, like database/sql drivers: memory: is
// built in, and the store modules sqlstore (PostgreSQL, MySQL/MariaDB,
// SQLite), redisstore and mongostore register their own when imported.
// The contract any Store, including your own, must honour is the doc
// comment of store.Store, which package conformance checks; pass one with
// WithStore.
package latch
