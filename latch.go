package latch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/latchauth/latch/store"
	_ "github.com/latchauth/latch/store/memstore" // registers memory:
	"github.com/latchauth/latch/token"
)

// Auth is latch's core: it logs users in, authenticates their tokens,
// refreshes and ends their sessions, in the mode its Config selects. It is
// safe for concurrent use. Create one with New; package latchhttp (and the
// gin and echo adapters built on it) serve it over HTTP.
type Auth struct {
	cfg         Config
	store       store.Store // as given or opened; see Store
	sessions    *guarded    // store, failing closed: what latch calls
	ownsStore   bool
	keys        *token.Keyring
	successors  sessionKeys // derive each refresh's next secrets
	throttleKey []byte      // keys login throttling's bucket names
	accessJWT   bool        // access tokens are JWTs (jwt, hybrid)
	refreshJWT  bool        // refresh tokens are JWTs (jwt)

	now      func() time.Time
	log      *slog.Logger
	onEvent  func(context.Context, Event)
	identity func(user any) (string, error)
	claims   func(ctx context.Context, user any) (map[string]any, error)
	loadUser func(ctx context.Context, p *Principal) (any, error)
}

var _ Authenticator = (*Auth)(nil)

// Option customises an Auth beyond what Config holds: the parts that are
// code rather than settings.
type Option func(*Auth) error

// New returns an Auth for cfg. Zero fields of cfg take their defaults; the
// store is opened from cfg.Store (with ctx, which bounds the opening)
// unless WithStore gives one; in jwt and hybrid modes the signing key
// comes from cfg.JWT unless WithKeyring gives a keyring.
func New(ctx context.Context, cfg Config, opts ...Option) (*Auth, error) {
	// Throttle settings of their own (not the defaults that Config()
	// hands back) make a store without store.Throttle an error at once.
	throttling := cfg.Throttle != ThrottleConfig{} && cfg.Throttle != (Config{}).withDefaults().Throttle
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Auth{
		cfg:        cfg,
		accessJWT:  cfg.Mode != ModeOpaque,
		refreshJWT: cfg.Mode == ModeJWT,
		now:        time.Now,
		log:        slog.Default(),
		identity:   defaultIdentity,
	}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	if a.keys != nil && (cfg.JWT.Secret != "" || cfg.JWT.KeyFile != "") {
		// The operator who set the secret would believe it in use.
		return nil, fmt.Errorf("latch: config: %s or %s is set and WithKeyring gives the keys: set one of them",
			cfg.setting("jwt.secret"), cfg.setting("jwt.key_file"))
	}
	if a.keys == nil && a.accessJWT {
		k, err := keyFromConfig(cfg)
		if err != nil {
			return nil, err
		}
		if a.keys, err = token.NewKeyring(k); err != nil {
			return nil, err
		}
	}
	var err error
	if a.successors, err = sessionKeysFromConfig(cfg); err != nil {
		return nil, err
	}
	a.throttleKey = a.successors.subkey("latch/throttle")
	if a.store == nil {
		s, err := store.Open(ctx, string(cfg.Store))
		if err != nil {
			return nil, err
		}
		a.store, a.ownsStore = s, true
	}
	if _, ok := a.store.(store.Throttle); throttling && !ok {
		// Configured, throttling must work from the first login.
		a.Close()
		return nil, errNoThrottle(a.store)
	}
	a.sessions = newGuarded(a.store, cfg.StoreTimeout.D(), a.log, a.emit)
	if cfg.SessionCache > 0 {
		w, ok := a.store.(store.Watcher)
		if !ok || !w.Watches() {
			a.Close()
			return nil, fmt.Errorf("latch: config: %s needs a store that reports its changes (store.Watcher), and this store (%T) does not",
				cfg.setting("session_cache"), a.store)
		}
		a.sessions.cache = newSessionCache(w, cfg.SessionCache.D(), a.log)
	}
	return a, nil
}

// keyFromConfig builds the signing key from a secret or a PEM file. Its
// errors name each setting as it was given (see Config.setting).
func keyFromConfig(cfg Config) (*token.Key, error) {
	c := cfg.JWT
	secret, keyFile := cfg.setting("jwt.secret"), cfg.setting("jwt.key_file")
	switch {
	case c.Secret != "" && c.KeyFile != "":
		return nil, fmt.Errorf("latch: config: set %s or %s, not both", secret, keyFile)
	case c.Secret != "":
		b, err := token.DecodeSecret(string(c.Secret))
		if err != nil {
			return nil, fmt.Errorf("latch: %s: %w", secret, err)
		}
		k, err := token.NewHMACKey("", c.Alg, b)
		if err != nil {
			if !strings.Contains(err.Error(), "openssl") {
				err = fmt.Errorf("%w; generate one with: openssl rand -base64 32", err)
			}
			return nil, fmt.Errorf("latch: %s: %w", secret, err)
		}
		return k, nil
	case c.KeyFile != "":
		b, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("latch: %s: %w", keyFile, err)
		}
		k, err := token.ParsePEMKey("", c.Alg, b)
		if err != nil {
			return nil, fmt.Errorf("latch: %s %s: %w", keyFile, c.KeyFile, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("latch: jwt and hybrid modes need a signing key: set %s "+
		"(generate one with: openssl rand -base64 32) or %s", secret, keyFile)
}

// Close stops the session cache (Config.SessionCache), if any, and
// closes the store if New opened it from a URL; a store passed with
// WithStore belongs to the caller and is left open.
func (a *Auth) Close() error {
	if a.sessions != nil && a.sessions.cache != nil {
		a.sessions.cache.close()
	}
	if c, ok := a.store.(io.Closer); ok && a.ownsStore {
		return c.Close()
	}
	return nil
}

// Config returns the configuration in force, defaults filled in.
func (a *Auth) Config() Config { return a.cfg }

// Store returns the session store, for tools that manage it (migrations,
// pruning). Sessions are changed through Auth, which reports events.
func (a *Auth) Store() store.Store { return a.store }

// Keyring returns the JWT keyring (nil in opaque mode), for rotation and
// for serving JWKS.
func (a *Auth) Keyring() *token.Keyring { return a.keys }

// Now returns the time by latch's clock (WithClock), for adapters that
// compute expiries, such as a cookie's Max-Age.
func (a *Auth) Now() time.Time { return a.now() }
