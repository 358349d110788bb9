// Package latchhttp serves latch over net/http: middleware that guards
// routes, token locations (header, cookie, query, JSON body), cookies with
// CSRF protection, RFC 6750 answers to refusals, and the refresh, RFC 7009
// revocation, RFC 7662 introspection and JWKS endpoints.
//
// It is an adapter over the core, latch.Auth, which knows nothing of HTTP.
// The gin and echo adapters (latchgin, latchecho5, latchecho) run every
// request through this package's Authenticator and answer through WriteError, so
// all frameworks give the same answers, byte for byte.
//
//	auth, err := latch.New(ctx, latch.Config{Mode: latch.ModeOpaque, SessionKey: key})
//	...
//	web, err := latchhttp.New(auth, latchhttp.Config{})
//	...
//	mux.Handle("POST /refresh", web.RefreshHandler())
//	mux.Handle("GET /protected", web.Middleware(latchhttp.Required())(protected))
//	mux.Handle("GET /admin", web.Middleware(latchhttp.Required().With(adminOnly))(admin))
//
// Guards are values: the presets Required, Optional, Fresh, RefreshToken
// and SessionCheck, or a Guard of your own. A handler behind a guard reads
// the caller with latch.FromContext and the loaded user with
// latch.UserFrom. Refusals match latch's error kinds with errors.Is; each
// kind has a default answer (StatusCode, and the table in docs/errors.md)
// that WithResponder replaces.
package latchhttp
