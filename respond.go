package latch

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Responder writes the answer to a refused request. latch sets the
// WWW-Authenticate (and for 503 Retry-After) header before calling it; the
// responder writes the status and body, and may change the headers.
type Responder func(w http.ResponseWriter, r *http.Request, err error)

// WithResponder answers errors of the given kind (one of the Err values in
// errors.go) with fn, like flask-jwt-extended's expired_token_loader. The
// most specific responder wins: one for ErrTokenExpired is used for
// expired tokens, one for ErrInvalidToken for every other token refusal.
func WithResponder(kindErr error, fn Responder) Option {
	return func(a *Auth) error {
		k, ok := kindErr.(*kind)
		if !ok {
			return errors.New("latch: WithResponder needs one of latch's Err values")
		}
		a.responders[k] = fn
		return nil
	}
}

// WriteError answers a request that Authenticate refused: headers per RFC
// 6750, then the responder for err's kind or the default JSON body
// {"msg": "..."}. An error latch did not make is a 500 with a generic
// message.
func (a *Auth) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	k := kindOf(err)
	status := StatusCode(err)
	if k != nil {
		if v := a.authenticateHeader(k, err); v != "" {
			w.Header().Set("WWW-Authenticate", v)
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
		for kk := k; kk != nil; kk = kk.parent {
			if fn := a.responders[kk]; fn != nil {
				fn(w, r, err)
				return
			}
		}
	}
	WriteJSON(w, status, map[string]string{a.cfg.HTTP.ErrorKey: PublicMessage(err)})
}

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = 5

// authenticateHeader builds the WWW-Authenticate challenge for k: realm
// alone for a missing token (RFC 6750 §3.1), with an error code for the
// rest of the bearer errors, none for CSRF and store failures, and Basic
// for a client of IntrospectionHandler.
func (a *Auth) authenticateHeader(k *kind, err error) string {
	if k == ErrInvalidClient {
		// The client authenticates with HTTP Basic (RFC 6749 §5.2).
		return `Basic realm="` + quoteSafe(a.cfg.HTTP.Realm) + `", charset="UTF-8"`
	}
	realm := `Bearer realm="` + quoteSafe(a.cfg.HTTP.Realm) + `"`
	if k == ErrNoToken {
		return realm
	}
	if k.code == "" {
		return ""
	}
	return realm + `, error="` + k.code + `", error_description="` + quoteSafe(PublicMessage(err)) + `"`
}

// quoteSafe keeps only the characters RFC 6750 allows in a quoted
// error_description (%x20-21 / %x23-5B / %x5D-7E); others become '?'.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}

// WriteJSON writes v as a JSON response with status, the way latch's own
// answers go out: Content-Type application/json and Cache-Control
// no-store (token responses must not be cached, RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
