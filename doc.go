// Package latch authenticates HTTP requests with per-device sessions and
// tokens that are opaque, JWT or both, chosen by configuration alone.
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
// A minimal server:
//
//	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque})
//	if err != nil { ... }
//	mux.Handle("GET /protected", auth.Required(protected))
//	// in the login handler, after checking the password:
//	tokens, err := auth.Login(r.Context(), user.ID, latch.LoginOptions{
//		Device: latch.DeviceFromRequest(r, "laptop"),
//	})
//
// Handlers read the caller with FromContext and the loaded user with
// UserFrom. Errors match the kinds in errors.go with errors.Is; each kind
// has an RFC 6750 answer that WithResponder can replace.
//
// Stores register a URL scheme, like database/sql drivers: memory: is
// built in, and the store modules sqlstore (PostgreSQL, MySQL/MariaDB,
// SQLite), redisstore and mongostore register their own when imported. The contract any Store, including your own, must honour is
// the doc comment of store.Store; pass one with WithStore.
package latch
