package latch

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch/store"
	_ "github.com/latchauth/latch/store/memstore" // registers memory:
	"github.com/latchauth/latch/token"
)

// Auth authenticates requests in the mode its Config selects. It is safe
// for concurrent use. Create one with New.
type Auth struct {
	cfg   Config
	store store.Store
	// storeBounded: the store returns once its context is done
	// (store.Bounded), so calls need no goroutine of their own.
	storeBounded bool
	ownsStore    bool
	keys         *token.Keyring
	accessJWT    bool // access tokens are JWTs (jwt, hybrid)
	refreshJWT   bool // refresh tokens are JWTs (jwt)

	now      func() time.Time
	log      *slog.Logger
	onEvent  func(context.Context, Event)
	identity func(user any) (string, error)
	claims   func(ctx context.Context, user any) (map[string]any, error)
	loadUser func(ctx context.Context, p *Principal) (any, error)

	responders map[*kind]Responder
}

var _ Authenticator = (*Auth)(nil)

// Option customises an Auth beyond what Config holds: the parts that are
// code rather than settings.
type Option func(*Auth) error

// New returns an Auth for cfg. Zero fields of cfg take their defaults; the
// store is opened from cfg.Store unless WithStore gives one; in jwt and
// hybrid modes the signing key comes from cfg.JWT unless WithKeyring gives
// a keyring.
func New(cfg Config, opts ...Option) (*Auth, error) {
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
		responders: map[*kind]Responder{},
	}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	if a.keys == nil && a.accessJWT {
		k, err := keyFromConfig(cfg.JWT)
		if err != nil {
			return nil, err
		}
		if a.keys, err = token.NewKeyring(k); err != nil {
			return nil, err
		}
	}
	if a.store == nil {
		s, err := store.Open(context.Background(), string(cfg.Store))
		if err != nil {
			return nil, err
		}
		a.store, a.ownsStore = s, true
	}
	b, ok := a.store.(store.Bounded)
	a.storeBounded = ok && b.Bounded()
	return a, nil
}

// keyFromConfig builds the signing key from a secret or a PEM file.
func keyFromConfig(c JWTConfig) (*token.Key, error) {
	switch {
	case c.Secret != "" && c.KeyFile != "":
		return nil, errors.New("latch: config: set LATCH_JWT_SECRET or LATCH_JWT_KEY_FILE, not both")
	case c.Secret != "":
		b, err := token.DecodeSecret(string(c.Secret))
		if err != nil {
			return nil, fmt.Errorf("latch: LATCH_JWT_SECRET: %w", err)
		}
		k, err := token.NewHMACKey("", c.Alg, b)
		if err != nil {
			if !strings.Contains(err.Error(), "openssl") {
				err = fmt.Errorf("%w; generate one with: openssl rand -base64 32", err)
			}
			return nil, fmt.Errorf("latch: LATCH_JWT_SECRET: %w", err)
		}
		return k, nil
	case c.KeyFile != "":
		b, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("latch: LATCH_JWT_KEY_FILE: %w", err)
		}
		k, err := token.ParsePEMKey("", c.Alg, b)
		if err != nil {
			return nil, fmt.Errorf("latch: LATCH_JWT_KEY_FILE %s: %w", c.KeyFile, err)
		}
		return k, nil
	}
	return nil, errors.New("latch: jwt and hybrid modes need a signing key: set LATCH_JWT_SECRET " +
		"(generate one with: openssl rand -base64 32) or LATCH_JWT_KEY_FILE")
}

// Close closes the store if New opened it from a URL; a store passed with
// WithStore belongs to the caller and is left open.
func (a *Auth) Close() error {
	if c, ok := a.store.(io.Closer); ok && a.ownsStore {
		return c.Close()
	}
	return nil
}

// Mode returns the mode in force.
func (a *Auth) Mode() Mode { return a.cfg.Mode }

// Config returns the configuration in force, defaults filled in.
func (a *Auth) Config() Config { return a.cfg }

// Store returns the session store.
func (a *Auth) Store() store.Store { return a.store }

// Keyring returns the JWT keyring (nil in opaque mode), for rotation and
// for serving JWKS.
func (a *Auth) Keyring() *token.Keyring { return a.keys }

// WithStore uses s instead of opening Config.Store. Auth never closes it.
func WithStore(s store.Store) Option {
	return func(a *Auth) error { a.store = s; return nil }
}

// WithKeyring signs and verifies JWTs with r instead of Config.JWT.
func WithKeyring(r *token.Keyring) Option {
	return func(a *Auth) error { a.keys = r; return nil }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(a *Auth) error { a.now = now; return nil }
}

// WithLogger sends auth events and errors to l (default slog.Default()).
// Nothing logged carries a token, secret or hash.
func WithLogger(l *slog.Logger) Option {
	return func(a *Auth) error { a.log = l; return nil }
}

// WithEventHook calls fn for every auth event (login, refresh, reuse
// detected, logout, revocation, failure, store error), synchronously: keep
// it fast.
func WithEventHook(fn func(context.Context, Event)) Option {
	return func(a *Auth) error { a.onEvent = fn; return nil }
}

// WithIdentity sets how Login turns a user value into the subject, like
// flask-jwt-extended's user_identity_loader. Without it, Login accepts
// strings, integers and fmt.Stringers.
func WithIdentity[U any](fn func(U) string) Option {
	return func(a *Auth) error {
		a.identity = func(user any) (string, error) {
			u, ok := user.(U)
			if !ok {
				return "", fmt.Errorf("%w: Login got a %T, the identity function takes a %s", ErrInvalidSubject, user, typeName[U]())
			}
			return fn(u), nil
		}
		return nil
	}
}

// WithClaimsLoader adds claims for each login from the user value, like
// flask-jwt-extended's additional_claims_loader. LoginOptions.Claims win
// ties; reserved claim names are refused.
func WithClaimsLoader[U any](fn func(ctx context.Context, user U) (map[string]any, error)) Option {
	return func(a *Auth) error {
		a.claims = func(ctx context.Context, user any) (map[string]any, error) {
			u, ok := user.(U)
			if !ok {
				return nil, fmt.Errorf("%w: Login got a %T, the claims loader takes a %s", ErrInvalidClaims, user, typeName[U]())
			}
			return fn(ctx, u)
		}
		return nil
	}
}

// WithUserLoader loads the application's user for each authenticated
// request, like flask-jwt-extended's user_lookup_loader; handlers get it
// with UserFrom. A nil user or an error matching ErrUserNotFound answers
// 401 "Error loading the user <subject>"; another of latch's error kinds
// keeps its own answer; any other error is a 503.
//
// It also runs on every refresh (Refresh, RefreshHandler, RefreshRequest),
// after the refresh token is verified and before it is spent, with
// p.Type == Refresh and p.Fresh == false. A user it no longer finds gets
// ErrUserNotFound and no new tokens, and the session is left as it was;
// any other error is ErrUnavailable.
func WithUserLoader[U any](fn func(ctx context.Context, p *Principal) (U, error)) Option {
	return func(a *Auth) error {
		a.loadUser = func(ctx context.Context, p *Principal) (any, error) {
			u, err := fn(ctx, p)
			if err != nil {
				return nil, err
			}
			if isNil(u) {
				return nil, ErrUserNotFound
			}
			return u, nil
		}
		return nil
	}
}

func typeName[U any]() string { return reflect.TypeFor[U]().String() }

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

func defaultIdentity(user any) (string, error) {
	switch u := user.(type) {
	case string:
		return u, nil
	case fmt.Stringer:
		return u.String(), nil
	}
	switch v := reflect.ValueOf(user); v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	}
	return "", fmt.Errorf("%w: Login got a %T; pass a string, an integer or a fmt.Stringer, or set WithIdentity", ErrInvalidSubject, user)
}

// dummyHash is what an unknown session's secret is compared with, so a
// wrong id and a wrong secret cost the same work.
var dummyHash = func() []byte {
	b := make([]byte, store.HashLen)
	rand.Read(b)
	return b
}()

// Every comparison of a secret (a presented secret's hash with a stored
// one, a CSRF value with its expected one) goes through secretCompare, and
// every hash of a presented secret through hashSecret or parseOpaque, so
// that tests can count that an unknown session costs the same work as a
// wrong secret (export_test.go wraps them once, before any test runs).
var (
	// secretCompare returns 1 when a and b are equal, 0 otherwise, in a
	// time that depends only on their lengths.
	secretCompare = subtle.ConstantTimeCompare
	hashSecret    = token.HashSecret
	// parseOpaque hashes the secret of every well-formed token it accepts.
	parseOpaque = token.ParseOpaque
)
