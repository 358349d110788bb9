package redisstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Bounded = (*Store)(nil)

// Bounded reports whether the client ends a call when its context is done
// (see store.Bounded): go-redis does so only with ContextTimeoutEnabled,
// which stores opened by URL set, and otherwise waits out its ReadTimeout.
func (s *Store) Bounded() bool {
	switch c := s.c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// Store is a store.Store in Redis, safe for concurrent use by many
// goroutines and many processes sharing the server (or cluster). Create
// one with New (or Open).
type Store struct {
	c       redis.UniversalClient
	prefix  string
	channel string       // where changes are reported (see Watch): <prefix>changes
	keys    [][]byte     // routing keys: the current one first, then the previous
	macs    []*sync.Pool // of each key, its HMAC-SHA256 states (see hasTag)
	owned   bool         // Close also closes c (stores from Open)
	kit     storekit.Options
	gate    storekit.Gate
	grace   time.Duration // strikeGrace; tests shorten it
}

// Option configures a Store, in the style of every store of latch.
type Option func(*config) error

type config struct {
	storekit.Options
	prefix string
	keys   [][]byte
}

// defaults is the configuration of a Store without options.
func defaults() config {
	return config{prefix: DefaultKeyPrefix, keys: [][]byte{[]byte(DefaultRoutingKey)}}
}

// WithErrorHook sets the function the errors the Store would otherwise
// drop go to: a failed clean-up of the index members whose sessions are
// gone, while Redis Cluster migrates a slot (the call carries on, and
// its own error, if any, goes to its caller), and a failed read by which
// Revoke tried to settle a TRYAGAIN. It may be called from many
// goroutines at once; no error it gets holds a token or a hash. The
// default discards them: nothing is written to a logger.
func WithErrorHook(f func(error)) Option { return storekit.WithErrorHook[*config](f) }

// DefaultKeyPrefix starts every key a Store writes unless WithKeyPrefix
// says otherwise.
const DefaultKeyPrefix = "latch:"

// DefaultRoutingKey is the routing key of a Store without WithRoutingKey.
// It is public: see WithRoutingKey for what that reveals and how to move
// to a secret key without losing track of any session.
const DefaultRoutingKey = "latch/redisstore: default routing key (public)"

// MinRoutingKeyLen is the shortest routing key WithRoutingKey accepts.
const MinRoutingKeyLen = 16

const maxPrefixLen = 64

// WithKeyPrefix sets the prefix of every key the Store writes (default
// "latch:"): 1 to 64 printable ASCII characters other than space, '{'
// and '}' (a brace would move the Redis Cluster hash tag into the
// prefix). Two Stores with different prefixes share nothing, so several
// applications can share one Redis; no key of one prefix is ever a key of
// another. Changing the prefix of a running application makes every
// session unreachable: everyone is logged out.
func WithKeyPrefix(p string) Option {
	return func(c *config) error {
		if p == "" || len(p) > maxPrefixLen {
			return fmt.Errorf("key prefix must be 1 to %d characters", maxPrefixLen)
		}
		for i := 0; i < len(p); i++ {
			if b := p[i]; b <= ' ' || b > '~' || b == '{' || b == '}' {
				return errors.New("key prefix must be printable ASCII without space, '{' or '}'")
			}
		}
		c.prefix = p
		return nil
	}
}

// WithRoutingKey sets the secret of the keyed hash that derives a
// subject's routing tag, the first three characters of each of its
// session ids, which place all of a subject's keys in one Redis Cluster
// hash slot. Keys are at least MinRoutingKeyLen bytes; use 32 random ones.
//
// Without it the Store uses DefaultRoutingKey, which is public: anyone
// holding a session id can then test a guessed subject against its tag (a
// wrong guess matches one time in 238,328) and tell that two ids most
// likely belong to the same subject. Nothing else depends on the key being
// secret: ids stay unguessable either way.
//
// Every process sharing the key prefix must use the same keys. A session
// created under a key a Store does not know is out of reach of its
// RevokeSubject and List. Such a mismatch is detected only when a process
// that lacks the key reads the session: its Get refuses it with
// ErrRoutingKey instead of serving a session that "log out everywhere"
// would miss. Nothing else notices: a RevokeSubject on a process with key
// K1 silently misses the sessions another process created under K2.
//
// To change the key, name the old one among previous, which RevokeSubject
// and List also search (one or two more round trips each per previous
// key), and roll it out in two steps so that no two running processes
// disagree:
//
//  1. everywhere: WithRoutingKey(old, new)  (create under old, search both)
//  2. everywhere: WithRoutingKey(new, old)  (create under new, search both)
//  3. once every session created under old has passed its absolute
//     expiry: WithRoutingKey(new)
//
// Leaving the default works the same way with []byte(DefaultRoutingKey)
// as the old key.
//
// A capped Create (max > 0) counts and evicts the subject's sessions under
// the current key only: their index is one hash slot, which is what makes
// the cap atomic, and the previous keys' indexes are other slots. During a
// rollout a subject may therefore hold up to max sessions under each key
// in use, up to 2×max across steps 1 to 3 (the sessions under the old
// key, created before step 2, plus max under the new one); the surplus
// ends as those sessions expire or are revoked, and List shows them all.
func WithRoutingKey(key []byte, previous ...[]byte) Option {
	return func(c *config) error {
		keys := make([][]byte, 0, 1+len(previous))
		for _, k := range append([][]byte{key}, previous...) {
			if len(k) < MinRoutingKeyLen {
				return fmt.Errorf("routing key shorter than %d bytes", MinRoutingKeyLen)
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		c.keys = keys
		return nil
	}
}

// New returns a Store that keeps sessions in Redis through c: a
// *redis.Client, a *redis.ClusterClient or a failover (Sentinel) client.
// New makes no call; the Store never closes c. The server must be Redis 6.2 or later (SET … PXAT) with
// Lua scripting.
//
// For a done context to interrupt a call already waiting on the network,
// create c with ContextTimeoutEnabled: true; otherwise a call on a
// stalled connection returns after the client's own read or write timeout.
func New(c redis.UniversalClient, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalid)
	}
	cfg := defaults()
	if err := storekit.Apply(&cfg, ErrInvalid, opts...); err != nil {
		return nil, err
	}
	return fromConfig(c, cfg), nil
}

func fromConfig(c redis.UniversalClient, cfg config) *Store {
	macs := make([]*sync.Pool, len(cfg.keys))
	for i, k := range cfg.keys {
		macs[i] = &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}
	}
	return &Store{
		c: c, prefix: cfg.prefix, channel: cfg.prefix + "changes", keys: cfg.keys, macs: macs, kit: cfg.Options, grace: strikeGrace,
		gate: storekit.Gate{Store: "redisstore", ErrClosed: ErrClosed, ErrInvalid: ErrInvalid},
	}
}

// Close makes every later call of a method fail with ErrClosed (an outage,
// never store.ErrNotFound). It closes the client only when the Store came
// from Open; a client passed to New belongs to the caller and stays open.
// A call still in flight on a client Close closes fails with ErrClosed
// too. Close is idempotent.
func (s *Store) Close() error {
	return s.gate.Close(func() error {
		if s.owned {
			return s.c.Close()
		}
		return nil
	})
}
