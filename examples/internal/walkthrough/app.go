package walkthrough

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// App is the walkthrough's latch side: the core, configured like
// flask-jwt-extended's callbacks, its HTTP layer, and the users. The
// frameworks add the routes.
type App struct {
	// Auth logs users in and lists and ends their sessions.
	Auth *latch.Auth
	// Web guards routes, answers refusals and logins, and serves the
	// refresh, revocation and JWKS endpoints; gin and echo use it through
	// their adapters.
	Web   *latchhttp.Auth
	Users *UserTable
	// KeySource says where the JWT key came from, for the startup line;
	// "" in opaque mode.
	KeySource string
	// SessionKeySource says where the session key came from, for the
	// startup line.
	SessionKeySource string
	// Log is where the example's own code logs (a recovered panic):
	// the server's logger under Start, slog.Default() otherwise.
	Log *slog.Logger
}

// New builds the app for cfg and httpCfg. dataDir ("" for the default) holds
// the sessions when cfg.Store is unset (an SQLite file: the program must
// link github.com/latchauth/latch/store/sqlstore/sqlite in), the generated
// session key when cfg has none, and the generated JWT secret when jwt or
// hybrid mode has no key configured. ctx bounds the
// opening of the store: a signal during startup ends it. opts come after
// the app's own options, so tests can add a clock or a store.
func New(ctx context.Context, cfg latch.Config, httpCfg latchhttp.Config, dataDir string, opts ...latch.Option) (*App, error) {
	d := newDataDir(dataDir)
	a := &App{Users: newUserTable(seedUsers()...), Log: slog.Default()}
	var err error
	if a.KeySource, err = signingKey(&cfg, d); err != nil {
		return nil, err
	}
	// The session key and the sessions file (and the data directory, if
	// need be) are made after the key checks, and removed again if latch
	// refuses cfg, which it checks before opening the store. A secret
	// generated above for a JWT mode stays, with its directory: the next
	// start uses it.
	var undo func()
	if a.SessionKeySource, undo, err = sessionKey(&cfg, d); err != nil {
		return nil, err
	}
	if cfg.Store == "" {
		u, undoStore, err := d.storeURL()
		if err != nil {
			undo()
			return nil, err
		}
		undoKey := undo
		undo = func() { undoStore(); undoKey() }
		cfg.Store = latch.StoreURL(u)
	}
	base := []latch.Option{
		latch.WithIdentity(func(u *User) string { return u.Subject() }),
		latch.WithClaimsLoader(userClaims),
		latch.WithUserLoader(a.loadUser),
	}
	if a.Auth, err = latch.New(ctx, cfg, append(base, opts...)...); err != nil {
		undo()
		if errors.Is(err, store.ErrUnknownScheme) {
			err = fmt.Errorf("%w; the examples link the networked stores (PostgreSQL, MySQL, Redis, MongoDB) only when built with -tags stores, as in: go run -tags stores ./examples/seed", err)
		}
		return nil, err
	}
	// latchhttp.ConfigFromEnv checked httpCfg before anything was opened;
	// New checks it again, for configurations made in code.
	if a.Web, err = latchhttp.New(a.Auth, httpCfg, latchhttp.WithResponder(latch.ErrTokenExpired, expiredToken)); err != nil {
		a.Auth.Close()
		undo()
		return nil, err
	}
	return a, nil
}

// Close closes the session store.
func (a *App) Close() error { return a.Auth.Close() }

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
	secret, created, err := d.secret(secretFile, size)
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

// sessionKey makes sure cfg has a session key: with LATCH_SESSION_KEY
// unset it uses the key kept in the data directory, generating it on
// first start, as it does a JWT secret. It returns where the key came
// from, never the key, and undo, which removes a key it generated (and
// the data directory, if it made that), for a start that is refused.
func sessionKey(cfg *latch.Config, d dataDir) (source string, undo func(), err error) {
	undo = func() {}
	if cfg.SessionKey != "" {
		return "LATCH_SESSION_KEY", undo, nil
	}
	dirCreated, err := d.ensure()
	if err != nil {
		return "", undo, err
	}
	path := d.file(sessionKeyFile)
	key, created, err := d.secret(sessionKeyFile, 32)
	undo = func() {
		if created {
			os.Remove(path)
		}
		if dirCreated {
			os.Remove(string(d)) // only if empty
		}
	}
	if err == nil {
		_, err = token.DecodeSecret(key)
		if err != nil {
			err = fmt.Errorf("in %s: %w; delete the file to generate a new one", path, err)
		}
	}
	if err != nil {
		undo()
		return "", func() {}, fmt.Errorf("session key: %w", err)
	}
	cfg.SessionKey = latch.Secret(key)
	if created {
		return path + " (generated)", undo, nil
	}
	return path, undo, nil
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
func userClaims(_ context.Context, u *User) (map[string]any, error) {
	return map[string]any{
		"foo":              "bar",
		"upcase_name":      strings.ToUpper(u.Username),
		"is_administrator": u.Admin,
	}, nil
}

// loadUser finds the user a token names, like the walkthrough's
// user_lookup_loader: nil makes latch answer 401 "Error loading the user".
func (a *App) loadUser(_ context.Context, p *latch.Principal) (*User, error) {
	return a.Users.Get(p.Subject), nil
}

// expiredToken answers an expired token as the walkthrough's
// expired_token_loader does. latch has set WWW-Authenticate already.
func expiredToken(w http.ResponseWriter, _ *http.Request, _ error) {
	latchhttp.WriteJSON(w, http.StatusUnauthorized, struct {
		Code string `json:"code"`
		Err  string `json:"err"`
	}{"dave", "I can't let you do that"})
}

// AdminOnly is the walkthrough's admin_required as a latch check.
func AdminOnly(_ *http.Request, p *latch.Principal) error {
	if p.Claims["is_administrator"] == true {
		return nil
	}
	return latch.Forbidden("Admins only!")
}

// StoreScheme is the scheme of a store URL: what the startup line may
// show of it, since the rest can hold a password.
func StoreScheme(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Scheme
	}
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" || len(scheme) > 16 || strings.ContainsAny(scheme, "/@ ") {
		return "?"
	}
	return scheme
}
