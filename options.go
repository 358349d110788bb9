package latch

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// WithStore uses s instead of opening Config.Store. Auth never closes it.
func WithStore(s store.Store) Option {
	return func(a *Auth) error { a.store = s; return nil }
}

// WithKeyring signs and verifies JWTs with r, for rotation. Config.JWT
// must then hold no secret or key file: New refuses both at once.
func WithKeyring(r *token.Keyring) Option {
	return func(a *Auth) error { a.keys = r; return nil }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(a *Auth) error { a.now = now; return nil }
}

// WithLogger sends auth events and errors to l (default slog.Default());
// nil logs nothing. Nothing logged carries a token, secret or hash.
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
// strings and integers only (not fmt.Stringers: a String method is often
// a display name, and two users sharing one would share sessions). A user of another type is a
// programming error: Login logs it and returns an error that is none of
// latch's kinds (an HTTP adapter answers 500).
func WithIdentity[U any](fn func(U) string) Option {
	return func(a *Auth) error {
		a.identity = func(user any) (string, error) {
			u, ok := user.(U)
			if !ok {
				return "", fmt.Errorf("latch: Login got a %T, the identity function takes a %s", user, typeName[U]())
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

// WithUserLoader loads the application's user on every Authenticate,
// like flask-jwt-extended's user_lookup_loader; it rides in
// Principal.User, and handlers get it typed with UserFrom. A nil user or
// an error matching ErrUserNotFound refuses the token with
// ErrUserNotFound, whose public message is "Error loading the user
// <subject>" (flask-jwt-extended's answer: the subject is shown to the
// client); another of latch's error kinds is returned as it is; any other
// error is ErrUnavailable.
//
// It also runs on every Refresh, after the refresh token is verified and
// before it is spent, with
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
	if u, ok := user.(string); ok {
		return u, nil
	}
	switch v := reflect.ValueOf(user); v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	}
	// Not a fmt.Stringer: a String method is often a display name or a
	// debug form, and two accounts sharing one would share sessions.
	return "", fmt.Errorf("latch: Login got a %T; pass a string or an integer, or set WithIdentity", user)
}
