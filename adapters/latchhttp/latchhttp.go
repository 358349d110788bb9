package latchhttp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/latchauth/latch"
)

// Auth serves a latch.Auth over net/http: it guards routes, finds tokens
// in requests, sets cookies, answers refusals, and serves the refresh,
// revocation, introspection and JWKS endpoints. It is safe for concurrent
// use. The gin and echo adapters run their requests through it, so every
// framework answers the same. Create one with New.
type Auth struct {
	core       *latch.Auth
	cfg        Config
	responders map[error]Responder
}

// Option customises an Auth beyond what Config holds.
type Option func(*Auth) error

// New returns the HTTP layer of core, configured by cfg. Zero fields of
// cfg take their defaults (see Config); an invalid cfg is an error naming
// every problem.
func New(core *latch.Auth, cfg Config, opts ...Option) (*Auth, error) {
	if core == nil {
		return nil, errors.New("latchhttp: New needs a *latch.Auth")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Auth{core: core, cfg: cfg, responders: map[error]Responder{}}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// WithResponder answers refusals of the given kind (one of latch's Err
// values) with fn, like flask-jwt-extended's expired_token_loader. The
// most specific responder wins: one for latch.ErrTokenExpired answers
// expired tokens, one for latch.ErrInvalidToken every other token
// refusal.
func WithResponder(kind error, fn Responder) Option {
	return func(a *Auth) error {
		if kind == nil || latch.Kind(kind) != kind {
			return fmt.Errorf("latchhttp: WithResponder needs one of latch's Err values, not %v", kind)
		}
		if fn == nil {
			return errors.New("latchhttp: WithResponder with a nil Responder")
		}
		a.responders[kind] = fn
		return nil
	}
}

// Core returns the latch.Auth that a serves: log in, list and end
// sessions there.
func (a *Auth) Core() *latch.Auth { return a.core }

// Config returns a copy of the configuration in force, defaults filled in.
func (a *Auth) Config() Config {
	c := a.cfg
	c.Locations = slices.Clone(c.Locations)
	return c
}

// secretCompare returns 1 when a and b are equal, 0 otherwise, in a time
// that depends only on their lengths. Every comparison of a secret here
// (a CSRF header, a client's Basic credentials) goes through it, so that
// tests can count the work (export_test.go wraps it once).
var secretCompare = subtle.ConstantTimeCompare
