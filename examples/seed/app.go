package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/token"
)

// loginBodyLimit bounds the JSON body of POST /login.
const loginBodyLimit = 64 << 10

// app is the walkthrough as a latch server: its users, its Auth and its
// routes. It is an http.Handler; Close releases the session store.
type app struct {
	auth    *latch.Auth
	users   *userTable
	handler http.Handler
	// cookies: the cookie location is configured, so login sets cookies.
	cookies bool
	// keySource says where the JWT key came from, for the startup line;
	// "" in opaque mode.
	keySource string
}

// newApp builds the server for cfg. dataDir ("" for the default) holds the
// generated JWT secret when jwt or hybrid mode has no key configured. opts
// come after the app's own options, so tests can add a clock or a logger.
func newApp(cfg latch.Config, dataDir string, opts ...latch.Option) (*app, error) {
	d := newDataDir(dataDir)
	a := &app{users: newUserTable(seedUsers()...)}
	var err error
	if a.keySource, err = signingKey(&cfg, d); err != nil {
		return nil, err
	}
	if cfg.Store == "" { // after the key checks: a refused start writes nothing
		u, err := d.storeURL()
		if err != nil {
			return nil, err
		}
		cfg.Store = latch.StoreURL(u)
	}
	base := []latch.Option{
		latch.WithIdentity(func(u *user) string { return u.subject() }),
		latch.WithClaimsLoader(userClaims),
		latch.WithUserLoader(a.loadUser),
		latch.WithResponder(latch.ErrTokenExpired, expiredToken),
	}
	if a.auth, err = latch.New(cfg, append(base, opts...)...); err != nil {
		return nil, err
	}
	a.cookies = slices.Contains(a.auth.Config().HTTP.Locations, latch.InCookie)
	a.handler = a.routes()
	return a, nil
}

// ServeHTTP serves the walkthrough's routes.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Close closes the session store.
func (a *app) Close() error { return a.auth.Close() }

// usesJWT reports whether mode signs access tokens.
func usesJWT(mode latch.Mode) bool { return mode == latch.ModeJWT || mode == latch.ModeHybrid }

// signingKey makes sure a JWT mode has a key: with neither LATCH_JWT_SECRET
// nor LATCH_JWT_KEY_FILE set it uses the secret kept in the data directory,
// generating it on first start. A secret that is set is checked in opaque
// mode too, so a weak one fails at startup rather than when someone
// switches modes. It returns where the key came from; the secret itself is
// never shown.
func signingKey(cfg *latch.Config, d dataDir) (string, error) {
	j := &cfg.JWT
	switch {
	case !usesJWT(cfg.Mode) && j.Secret != "":
		if err := checkSecret(string(j.Secret), ""); err != nil {
			return "", fmt.Errorf("LATCH_JWT_SECRET: %w", err)
		}
		return "", nil
	case !usesJWT(cfg.Mode):
		return "", nil
	case j.Secret != "":
		return "LATCH_JWT_SECRET", nil
	case j.KeyFile != "":
		return "LATCH_JWT_KEY_FILE", nil
	}
	size, ok := hmacSize(j.Alg)
	if !ok {
		return "", fmt.Errorf("LATCH_JWT_ALG=%s: no key for it; set LATCH_JWT_KEY_FILE to a PEM private key, "+
			"or use an HMAC algorithm (HS256, HS384, HS512) for a generated secret", j.Alg)
	}
	path := d.file(secretFile)
	secret, created, err := d.jwtSecret(size)
	if err != nil {
		return "", fmt.Errorf("JWT secret: %w", err)
	}
	if err := checkSecret(secret, j.Alg); err != nil {
		return "", fmt.Errorf("JWT secret in %s: %w; delete the file to generate a new one", path, err)
	}
	j.Secret = latch.Secret(secret)
	if created {
		return path + " (generated)", nil
	}
	return path, nil
}

// hmacSize is the size of a generated secret for alg: the size of its
// hash (RFC 7518 §3.2), 32 bytes for the default HS256. ok is false when
// alg is not an HMAC algorithm, so a secret would be of no use.
func hmacSize(alg string) (size int, ok bool) {
	switch alg {
	case "", "HS256":
		return 32, true
	case "HS384":
		return 48, true
	case "HS512":
		return 64, true
	}
	return 0, false
}

// checkSecret refuses a base64 HMAC secret that latch would refuse for
// alg ("" for HS256). Its errors never quote the secret.
func checkSecret(s, alg string) error {
	b, err := token.DecodeSecret(s)
	if err == nil {
		_, err = token.NewHMACKey("", alg, b)
	}
	return err
}

// userClaims are the claims every login of u carries, like the
// walkthrough's additional_claims_loader.
func userClaims(_ context.Context, u *user) (map[string]any, error) {
	return map[string]any{
		"foo":              "bar",
		"upcase_name":      strings.ToUpper(u.Username),
		"is_administrator": u.Admin,
	}, nil
}

// loadUser finds the user a token names, like the walkthrough's
// user_lookup_loader: nil makes latch answer 401 "Error loading the user".
func (a *app) loadUser(_ context.Context, p *latch.Principal) (*user, error) {
	return a.users.get(p.Subject), nil
}

// expiredToken answers an expired token as the walkthrough's
// expired_token_loader does. latch has set WWW-Authenticate already.
func expiredToken(w http.ResponseWriter, _ *http.Request, _ error) {
	writeJSON(w, http.StatusUnauthorized, struct {
		Code string `json:"code"`
		Err  string `json:"err"`
	}{"dave", "I can't let you do that"})
}

// adminOnly is the walkthrough's admin_required as a latch check.
func adminOnly(_ *http.Request, p *latch.Principal) error {
	if p.Claims["is_administrator"] == true {
		return nil
	}
	return latch.Forbidden("Admins only!")
}

// routes returns the walkthrough's routes, plus sessions and JWKS.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	auth := a.auth
	mux.HandleFunc("POST /login", a.login)
	mux.Handle("POST /refresh", auth.RefreshHandler())
	mux.Handle("POST /revoke", auth.RevocationHandler()) // RFC 7009
	mux.Handle("GET /protected", auth.Required(http.HandlerFunc(protected)))
	mux.Handle("GET /who_am_i", auth.Required(http.HandlerFunc(whoAmI)))
	mux.Handle("GET /claims", auth.Required(http.HandlerFunc(claims)))
	mux.Handle("GET /optionally_protected", auth.Optional(http.HandlerFunc(optionallyProtected)))
	mux.Handle("GET /admin", auth.Require(adminOnly)(http.HandlerFunc(admin)))
	mux.Handle("POST /logout", auth.Required(http.HandlerFunc(a.logout)))
	// Routes that manage sessions confirm the caller's own session is live,
	// even in jwt mode without LATCH_SESSION_CHECK.
	mux.Handle("POST /logout_all", auth.SessionRequired(http.HandlerFunc(a.logoutAll)))
	mux.Handle("GET /sessions", auth.SessionRequired(http.HandlerFunc(a.sessions)))
	mux.Handle("DELETE /sessions/{id}", auth.SessionRequired(http.HandlerFunc(a.revokeSession)))
	mux.HandleFunc("GET /health", health)
	if k := auth.Keyring(); k != nil {
		mux.Handle("GET /.well-known/jwks.json", k.JWKS())
	}
	return jsonErrors(mux)
}

// storeScheme is the scheme of a store URL: what the startup line may show
// of it, since the rest can hold a password.
func storeScheme(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Scheme
	}
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" || len(scheme) > 16 || strings.ContainsAny(scheme, "/@ ") {
		return "?"
	}
	return scheme
}
