package token

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// Keyring holds the keys latch signs and verifies JWTs with, newest first.
// The newest key that can sign signs; every key verifies the tokens that
// name it, until it is removed. Sign, Verify and JWKS read an immutable
// snapshot, so they are safe, and never block, while Add and Remove rotate
// keys. The zero Keyring is empty: Add a signing key before use.
type Keyring struct {
	mu   sync.Mutex // serializes Add and Remove
	snap atomic.Pointer[keySnapshot]
}

// keySnapshot is one immutable state of a Keyring.
type keySnapshot struct {
	keys   []*Key // newest first
	byID   map[string]*Key
	signer *Key   // the newest key that can sign
	jwks   []byte // the JWKS document of keys
	// headers are the headers Sign writes with each key, base64url as
	// in a token, read by jwsReadHeader: Verify looks a token's header up
	// here before it decodes one, which saves a third of its allocations
	// on the tokens the ring signed. Any other header is decoded.
	headers map[string]jwsHeader
}

// keyEmptySnapshot is the state of a zero Keyring.
var keyEmptySnapshot = &keySnapshot{}

func keyNewSnapshot(keys []*Key) (*keySnapshot, error) {
	s := &keySnapshot{keys: keys, byID: make(map[string]*Key, len(keys)), headers: make(map[string]jwsHeader, len(keys))}
	for _, k := range keys {
		if !k.usable() {
			return nil, fmt.Errorf("%w: key has no key material; make keys with NewHMACKey, NewSigningKey, NewVerifyKey or ParsePEMKey", ErrWeakKey)
		}
		if _, dup := s.byID[k.id]; dup {
			return nil, fmt.Errorf("token: duplicate key id %q", k.id)
		}
		s.byID[k.id] = k
		if signing, err := k.jwtNew(jwt.MapClaims{}).SigningString(); err == nil {
			b64 := signing[:strings.IndexByte(signing, '.')]
			if h, err := jwsReadHeader(b64); err == nil {
				s.headers[b64] = h
			}
		}
		if s.signer == nil && k.CanSign() {
			s.signer = k
		}
	}
	if s.signer == nil {
		return nil, fmt.Errorf("token: a keyring needs a key that can sign")
	}
	s.jwks = keyJWKS(keys)
	return s, nil
}

// NewKeyring returns a keyring of keys, newest first: keys[0] signs and
// must be able to. Duplicate ids are refused.
func NewKeyring(keys ...*Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("token: a keyring needs at least one key")
	}
	if !keys[0].CanSign() {
		return nil, fmt.Errorf("token: the first (newest) key of a keyring must be able to sign")
	}
	s, err := keyNewSnapshot(append([]*Key(nil), keys...))
	if err != nil {
		return nil, err
	}
	r := &Keyring{}
	r.snap.Store(s)
	return r, nil
}

// Add makes k the newest key, which signs from now on. k must be able to
// sign and its id must be new to the ring.
func (r *Keyring) Add(k *Key) error {
	if !k.CanSign() {
		return fmt.Errorf("token: Add takes a key that can sign")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := []*Key{k}
	if cur := r.snap.Load(); cur != nil {
		keys = append(keys, cur.keys...)
	}
	s, err := keyNewSnapshot(keys)
	if err != nil {
		return err
	}
	r.snap.Store(s)
	return nil
}

// Remove takes the key with the given id out of the ring: tokens it signed
// no longer verify (ErrUnknownKey). Removing the last key that can sign
// is refused.
func (r *Keyring) Remove(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.snap.Load()
	if cur == nil || cur.byID[id] == nil {
		return fmt.Errorf("%w: no key with id %q", ErrUnknownKey, id)
	}
	keys := make([]*Key, 0, len(cur.keys)-1)
	for _, k := range cur.keys {
		if k.id != id {
			keys = append(keys, k)
		}
	}
	s, err := keyNewSnapshot(keys)
	if err != nil {
		return fmt.Errorf("token: cannot remove key %q: it is the last key that can sign", id)
	}
	r.snap.Store(s)
	return nil
}
