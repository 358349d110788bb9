package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/latchauth/latch/internal/base62"
)

// Opener opens a Store from a URL whose scheme it was registered for. It
// takes the URL as it was written, so that a store's own Open (see
// storekit.Register) can be its opener.
type Opener func(ctx context.Context, rawURL string) (Store, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a store available by URL scheme, as database/sql drivers
// are: a store module calls it from init, and an application selects the
// store with a setting such as LATCH_STORE=redis://host:6379/0. It panics
// if scheme is empty or registered twice.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	scheme = strings.ToLower(scheme)
	if scheme == "" || open == nil {
		panic("store: Register with empty scheme or nil opener")
	}
	if _, dup := openers[scheme]; dup {
		panic("store: Register called twice for scheme " + scheme)
	}
	openers[scheme] = open
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	s := make([]string, 0, len(openers))
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// ErrUnknownScheme is what Open returns, wrapped, for a URL whose scheme
// no linked store registered.
var ErrUnknownScheme = errors.New("store: no store registered for scheme")

// Open opens the store that rawURL names. The error names the scheme and
// the registered ones, never the rest of the URL (it may hold a password);
// a scheme nobody registered matches ErrUnknownScheme.
func Open(ctx context.Context, rawURL string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("store: %q is not a store URL (such as memory:)", redact(rawURL))
	}
	openersMu.RLock()
	open := openers[strings.ToLower(u.Scheme)]
	openersMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("%w %q (registered: %s); import the package of that store for its side effect, as with database/sql drivers",
			ErrUnknownScheme, u.Scheme, strings.Join(Schemes(), ", "))
	}
	return open(ctx, rawURL)
}

// redact keeps only the scheme of something that failed to parse as a
// URL, and only when what precedes the first ":" is a scheme (RFC 3986
// §3.1: a letter, then letters, digits, "+", "-" or "."): before a ":"
// could as well be a user name or part of a password.
func redact(s string) string {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i >= 32 || !isScheme(s[:i]) {
		return "…"
	}
	return s[:i+1] + "…"
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// NewID returns a fresh session id: IDLen base62 characters holding 128
// bits from crypto/rand. Stores that need no structure in their ids use it
// in Create.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	id := make([]byte, IDLen)
	base62.Encode(id, b[:])
	return string(id)
}

// ValidID reports whether id has the shape of a session id. Stores may use
// it to answer ErrNotFound without a round trip.
func ValidID(id string) bool {
	return len(id) == IDLen && base62.Valid(id)
}
