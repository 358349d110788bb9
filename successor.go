package latch

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/token"
)

// Labels that keep a session's derived refresh and access secrets apart.
const (
	labelRefresh = "latch/refresh"
	labelAccess  = "latch/access"
)

// sessionKeys is the ring successor secrets are derived with: the first
// key derives them, and every key is tried when a spent refresh token is
// retried, so that a rotation made before a key change is recognised.
type sessionKeys [][]byte

// sessionKeysFromConfig decodes SessionKey and PreviousSessionKeys. Its
// errors name each setting as it was given and never quote a key.
func sessionKeysFromConfig(cfg Config) (sessionKeys, error) {
	name := cfg.setting("session_key")
	if cfg.SessionKey == "" {
		return nil, fmt.Errorf("latch: config: %s is not set: every mode needs a session key, "+
			"from which refreshes derive the next secrets; generate one with: openssl rand -base64 32", name)
	}
	k, err := token.DecodeSecret(string(cfg.SessionKey))
	if err != nil {
		return nil, fmt.Errorf("latch: %s: %w", name, err)
	}
	if jwt, err := token.DecodeSecret(string(cfg.JWT.Secret)); err == nil && secretCompare(jwt, k) == 1 {
		return nil, fmt.Errorf("latch: config: %s equals %s: generate a key of its own, so that one leaked key does not give away both",
			name, cfg.setting("jwt.secret"))
	}
	keys := sessionKeys{k}
	var errs []error
	for i, s := range cfg.PreviousSessionKeys {
		old, err := token.DecodeSecret(string(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("latch: %s, key %d: %w", cfg.setting("previous_session_keys"), i+1, err))
			continue
		}
		keys = append(keys, old)
	}
	return keys, errors.Join(errs...)
}

// subkey returns a key of its own for purpose, derived from the current
// session key: HMAC-SHA256(key, purpose).
func (k sessionKeys) subkey(purpose string) []byte {
	m := hmac.New(sha256.New, k[0])
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// successor is what a refresh of a session with a spent secret hands out
// next: the refresh secret, and the opaque access secret when access
// tokens are opaque, with their hashes.
type successor struct {
	refresh, access         string
	refreshHash, accessHash []byte
}

// derive returns the successor of spent in session id under key.
func derive(key []byte, id, spent string, opaqueAccess bool) successor {
	var n successor
	n.refresh, n.refreshHash = opaque.Derive(key, labelRefresh, id, spent)
	if opaqueAccess {
		n.access, n.accessHash = opaque.Derive(key, labelAccess, id, spent)
	}
	return n
}
