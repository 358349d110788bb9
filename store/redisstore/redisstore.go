package redisstore

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	c      redis.UniversalClient
	prefix string
	keys   [][]byte // routing keys: the current one first, then the previous
	owned  bool     // Close also closes c (stores from Open)
	writes atomic.Int64

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*config) error

type config struct {
	prefix string
	keys   [][]byte
}

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
			return fmt.Errorf("%w: key prefix must be 1 to %d characters", ErrInvalid, maxPrefixLen)
		}
		for i := 0; i < len(p); i++ {
			if b := p[i]; b <= ' ' || b > '~' || b == '{' || b == '}' {
				return fmt.Errorf("%w: key prefix must be printable ASCII without space, '{' or '}'", ErrInvalid)
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
				return fmt.Errorf("%w: routing key shorter than %d bytes", ErrInvalid, MinRoutingKeyLen)
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
	cfg := config{prefix: DefaultKeyPrefix, keys: [][]byte{[]byte(DefaultRoutingKey)}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return &Store{c: c, prefix: cfg.prefix, keys: cfg.keys}, nil
}

// Close makes every later call of a method fail with ErrClosed (an outage,
// never store.ErrNotFound). It closes the client only when the Store came
// from Open; a client passed to New belongs to the caller and stays open.
// A call still in flight on a client Close closes fails with ErrClosed
// too. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.owned {
			s.closeErr = s.c.Close()
		}
	})
	return s.closeErr
}

// usable returns the error a call must fail with before any command: a
// done ctx, or a closed Store.
func (s *Store) usable(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Keys. A tag is the first tagLen characters of an id; every key of one
// tag is in the slot of "{tag}", the first braces of the key (the prefix
// holds none).

func (s *Store) slot(tag string) string { return s.prefix + "{" + tag + "}" }

// sessionKey is <prefix>{<tag>}:s:<id>.
func (s *Store) sessionKey(id string) string { return s.slot(id[:tagLen]) + ":s:" + id }

// indexKey is <prefix>{<tag>}:u:<digest>, a sorted set of the subject's
// session ids under routing key k, each scored with its session's
// ExpiresAt (Unix ms). tag is the subject's tag under k, and the digest is
// HMAC-SHA256 of the subject under k, base64url: 43 characters whatever
// the subject, which bounds the key and, when k is secret, keeps subjects
// (often e-mail addresses) out of the key space (SCAN, --bigkeys, key
// names in logs) without a dictionary attack on the name. It follows the
// tag, so nothing in a subject can move the slot.
func (s *Store) indexKey(k []byte, subject string) string {
	return s.indexIn(tag(k, subject), k, subject)
}

// indexIn is indexKey with the tag given.
func (s *Store) indexIn(t string, k []byte, subject string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(subject))
	return s.slot(t) + ":u:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// indexes returns subject's index keys, the current routing key's first,
// without repeats.
func (s *Store) indexes(subject string) []string {
	out := make([]string, 0, len(s.keys))
	for _, k := range s.keys {
		if x := s.indexKey(k, subject); !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// revokeIndex returns the index of subject that an id of tag t belongs
// to: the index under the routing key that gives subject t, or, when none
// does (the id is another subject's, or from an unknown key), a name in
// t's slot that no index has, so that the script's keys share a slot.
func (s *Store) revokeIndex(subject, t string) string {
	for _, k := range s.keys {
		if tag(k, subject) == t {
			return s.indexKey(k, subject)
		}
	}
	return s.indexIn(t, s.keys[0], subject)
}

// tags returns subject's routing tags, the current key's first, without
// repeats.
func (s *Store) tags(subject string) []string {
	out := make([]string, 0, len(s.keys))
	for _, k := range s.keys {
		if t := tag(k, subject); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// deadline is the instant Redis expires a session key: its idle or
// absolute expiry, whichever comes first, at least 1 (PXAT refuses 0).
func deadline(idle, expires int64) int64 { return max(min(idle, expires), 1) }

// members returns the session keys of the members of index idx scored
// after min (a ZRANGE BYSCORE bound), one round trip. A member that is not
// a session id was not written by this package.
func (s *Store) members(ctx context.Context, idx, min string) ([]string, error) {
	ids, err := s.c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: idx, Start: min, Stop: "+inf", ByScore: true}).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, 1+len(ids))
	keys = append(keys, idx)
	for _, id := range ids {
		if !store.ValidID(id) {
			return nil, errCorrupt
		}
		keys = append(keys, s.sessionKey(id))
	}
	return keys, nil
}

// pruneGone removes from the index keys[0] the members whose session
// keys, keys[1:], are gone, checking each with its own EXISTS, and
// returns how many it removed. A script that declares a missing key
// fails with TRYAGAIN while its slot migrates; single-key commands do
// not (Redis serves them wherever the key is, following ASK), so this
// clears the way for List and RevokeSubject when the subject's live keys
// are together and only members of idled-out sessions dangle. A session
// key does not come back once gone (ids are never reused; the one
// exception, a Create rerun after a lost reply racing a RevokeSubject, is
// described in doc.go), so removing its member is safe.
func (s *Store) pruneGone(ctx context.Context, keys []string) (int, error) {
	n := 0
	for _, k := range keys[1:] {
		e, err := s.c.Exists(ctx, k).Result()
		if err != nil {
			return n, err
		}
		if e == 0 {
			r, err := s.c.ZRem(ctx, keys[0], k[len(k)-store.IDLen:]).Result()
			if err != nil {
				return n, err
			}
			n += int(r)
		}
	}
	if n > 0 {
		s.writes.Add(1)
	}
	return n, nil
}

// Retries of a capped Create or a RevokeSubject whose index changed
// between the read of its members and the script. An attempt fails so
// only when a login added a member in between, that is when another
// Create succeeded, so contenders on one subject drain: some call always
// gets through. Each retry waits a jittered pause that grows from about
// 1 ms to 16 ms; a call gives up after busyBudget of trying, or when its
// context is done.
const (
	firstWait  = time.Millisecond
	maxWait    = 16 * time.Millisecond
	busyBudget = time.Second
)

// contention paces the retries of one call; the zero value is ready.
type contention struct {
	start time.Time
	n     int
}

// wait pauses before the next attempt of op. It fails with errBusy once
// busyBudget has passed since the first, with ctx's error when ctx is done
// first.
func (c *contention) wait(ctx context.Context, op string) error {
	if c.n == 0 {
		c.start = time.Now()
	}
	c.n++
	if time.Since(c.start) >= busyBudget {
		return fmt.Errorf("redisstore: %s: %w", op, errBusy)
	}
	d := min(firstWait<<min(c.n-1, 10), maxWait)
	d = d/2 + storekit.Jitter(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return wrap(ctx, op, ctx.Err())
	case <-t.C:
		return nil
	}
}

// errBusy: a capped Create or RevokeSubject found its index changed under
// it on every attempt for busyBudget.
var errBusy = errors.New("the subject's index kept changing; try again")

// Create implements store.Store. It picks an id carrying the subject's tag
// under the current routing key. Without a cap it is one script. With max
// > 0 it is two round trips: a ZRANGE of the members scored after
// CreatedAt (the others are dead at CreatedAt), then one script that
// declares their session keys, checks that no other member has appeared
// meanwhile (else it starts again after a jittered pause, for up to a
// second, then fails as an outage: never a silent breach of the cap), deletes the
// live others beyond the newest max-1 (live at CreatedAt, List order) and
// writes the session and its member; it deletes the declared sessions
// dead at CreatedAt too, as memstore does. The cap counts the sessions
// under the current routing key only (see WithRoutingKey). A value beyond
// the limits of package store is ErrInvalid, before any command. A rerun of
// the script by go-redis after a lost reply finds the session it wrote and
// succeeds without writing or evicting again (see doc.go).
func (s *Store) Create(ctx context.Context, sess *store.Session, max int) error {
	const op = "create"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if sess == nil {
		return fmt.Errorf("%w: nil session", ErrInvalid)
	}
	v, err := encode(sess)
	if err != nil {
		return err
	}
	created, _ := toMS("CreatedAt", sess.CreatedAt) // checked by encode
	idle, _ := toMS("IdleUntil", sess.IdleUntil)
	expires, _ := toMS("ExpiresAt", sess.ExpiresAt)
	t := tag(s.keys[0], sess.Subject)
	idx := s.indexKey(s.keys[0], sess.Subject)
	dl, score := deadline(idle, expires), deadline(expires, expires)
	// An id collision (113 random bits) is beyond unlikely; the scripts
	// refuse to overwrite, and a new id is drawn.
	var busy contention
	for taken := 0; taken < 3; {
		id := newID(t)
		var n int
		if max <= 0 {
			n, err = createScript.Run(ctx, s.c, []string{idx, s.sessionKey(id)}, id, v, dl, score).Int()
		} else {
			var keys []string
			keys, err = s.members(ctx, idx, "("+strconv.FormatInt(created, 10))
			if err == nil {
				keys = slices.Insert(keys, 1, s.sessionKey(id))
				n, err = createCappedScript.Run(ctx, s.c, keys, id, v, dl, score, max, created).Int()
			}
		}
		if err != nil {
			return wrap(ctx, op, err)
		}
		switch n {
		case 1:
			s.writes.Add(1)
			sess.ID = id
			return nil
		case 0:
			taken++
		case -2:
			if err := busy.wait(ctx, op); err != nil {
				return err
			}
		}
	}
	return errors.New("redisstore: create: three fresh ids were all taken")
}

// Get implements store.Store with one GET. Liveness is judged with now.
// A session whose tag none of the routing keys gives its subject is
// ErrRoutingKey (see WithRoutingKey).
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	v, err := s.c.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	x, err := decode(id, v)
	if err != nil {
		return nil, err
	}
	if !x.Live(now) {
		return nil, store.ErrNotFound
	}
	if !slices.Contains(s.tags(x.Subject), id[:tagLen]) {
		return nil, ErrRoutingKey
	}
	return x, nil
}

// Touch implements store.Store as one script on the session key alone
// that reads the session and, unless it is not live or was used less than
// every ago, rewrites the 16 bytes of LastUsedAt and IdleUntil in place
// (SETRANGE) and moves the key's expiry with them. The index is not
// written: its score is ExpiresAt, which never moves.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	// now+idle goes through min(…, ExpiresAt) in the script, and
	// ExpiresAt is within ±maxMS, so clamping changes nothing.
	n, err := touchScript.Run(ctx, s.c, []string{s.sessionKey(id)},
		nowMS(now), nowMS(now.Add(idle)), nowMS(now.Add(-every))).Int()
	if err != nil {
		return wrap(ctx, op, err)
	}
	switch n {
	case -1:
		return store.ErrNotFound
	case 1:
		s.writes.Add(1)
	}
	return nil
}

// Rotate implements store.Store as one script on the session key alone:
// Redis runs one script at a time, so of concurrent callers from one hash exactly one finds it
// current. IdleUntil is capped at the session's ExpiresAt, and KeepSpent
// <= 0 keeps no spent hash. A new hash longer than store.HashLen, or a
// time of r beyond 2^53 Unix milliseconds, is ErrInvalid.
func (s *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	if len(r.RefreshHash) > store.HashLen || len(r.SecretHash) > store.HashLen {
		return fmt.Errorf("%w: hash longer than %d bytes", ErrInvalid, store.HashLen)
	}
	var ts [3]int64
	for i, f := range [...]struct {
		name string
		at   time.Time
	}{{"AccessExpiresAt", r.AccessExpiresAt}, {"IdleUntil", r.IdleUntil}, {"FreshUntil", r.FreshUntil}} {
		var err error
		if ts[i], err = toMS(f.name, f.at); err != nil {
			return err
		}
	}
	n, err := rotateScript.Run(ctx, s.c, []string{s.sessionKey(id)},
		nowMS(now), nonNil(r.Old), nonNil(r.RefreshHash), nonNil(r.SecretHash), ts[0], ts[1], ts[2],
		max(r.KeepSpent, 0)).Int()
	if err != nil {
		return wrap(ctx, op, err)
	}
	switch n {
	case -1:
		return store.ErrNotFound
	case 0:
		return store.ErrConflict
	}
	s.writes.Add(1)
	return nil
}

// nonNil sends nil as an empty argument.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Revoke implements store.Store as one script that deletes the session
// only if it belongs to subject.
//
// While Redis Cluster migrates the session's slot, Redis answers TRYAGAIN
// to the script when one of its two keys is absent or on the other node,
// which an already revoked id always is. Revoke then reads the session
// alone (one GET, which Redis serves wherever the key is): absent, or
// another subject's, is done, as revocation is idempotent; otherwise the
// TRYAGAIN error stands (an outage).
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) || !validSubject(subject) {
		return nil
	}
	t := id[:tagLen]
	n, err := revokeScript.Run(ctx, s.c, []string{s.sessionKey(id), s.revokeIndex(subject, t)}, subject).Int()
	if isTryAgain(err) {
		v, gerr := s.c.Get(ctx, s.sessionKey(id)).Bytes()
		if errors.Is(gerr, redis.Nil) {
			return nil
		}
		if gerr == nil {
			if x, derr := decode(id, v); derr == nil && x.Subject != subject {
				return nil
			}
		}
	}
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n > 0 {
		s.writes.Add(1)
	}
	return nil
}

// isTryAgain reports whether err is Redis Cluster's TRYAGAIN: a multi-key
// command during a slot migration whose keys are not all on one node.
func isTryAgain(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "TRYAGAIN")
}

// RevokeSubject implements store.Store. For each routing key (one without
// WithRoutingKey's previous keys) it reads the index's members (ZRANGE),
// then runs one script that declares the index and their session keys and
// deletes them but keep: two round trips, one when the index is empty.
// Should the index hold members the script did not declare (logins since
// the read), it reads and deletes again after a jittered pause, for up to
// a second, and otherwise fails as an outage. The count includes sessions
// already dead at the caller's now whose keys Redis had not yet expired.
// On an error it returns, with the error, how many sessions it had
// deleted before the failure: they stay deleted. The count can fall short
// after a lost reply: go-redis runs the script again (MaxRetries), and the
// second run finds those sessions gone and does not count them.
//
// While Redis Cluster migrates the subject's slot, a script that declares
// a session key no node holds fails with TRYAGAIN; RevokeSubject then
// removes the members whose keys are gone (EXISTS, then ZREM, one key
// each) and tries again, so it fails only while the subject's live keys
// are split between the two nodes.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.usable(ctx, op); err != nil {
		return 0, err
	}
	if !validSubject(subject) {
		return 0, nil
	}
	total := 0
	defer func() {
		if total > 0 {
			s.writes.Add(1)
		}
	}()
	for _, idx := range s.indexes(subject) {
		var busy contention
		for a := 0; ; a++ {
			if a > 0 {
				if err := busy.wait(ctx, op); err != nil {
					return total, err
				}
			}
			keys, err := s.members(ctx, idx, "-inf")
			if err != nil {
				return total, wrap(ctx, op, err)
			}
			if len(keys) == 1 {
				break // no member: nothing to delete
			}
			res, err := revokeSubjectScript.Run(ctx, s.c, keys, keep).Int64Slice()
			if isTryAgain(err) {
				if n, perr := s.pruneGone(ctx, keys); perr == nil && n > 0 {
					continue // read the members again
				}
			}
			if err != nil {
				return total, wrap(ctx, op, err)
			}
			if len(res) != 2 {
				return total, fmt.Errorf("redisstore: %s: unexpected reply of %d items", op, len(res))
			}
			total += int(res[0])
			if res[1] == 0 {
				break
			}
		}
	}
	return total, nil
}

// List implements store.Store. For each routing key (one without
// WithRoutingKey's previous keys) it reads the members scored after now
// (ZRANGE: a member's score is its ExpiresAt), then runs one script that
// declares their session keys and returns those live at now in one reply:
// two round trips, one when no member is. The sessions returned under one
// routing key were live together at one instant, the script's, so a
// capped subject shows at most its cap per routing key; with previous
// routing keys each key's view is of its own, later, instant. A login
// racing the List may be missing from it, as if it came after. During a
// slot migration it clears members whose keys are gone as RevokeSubject
// does. It returns a non-nil empty slice when the subject has no live
// session.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	out := []store.Session{}
	if !validSubject(subject) {
		return out, nil
	}
	t := nowMS(now)
	for _, idx := range s.indexes(subject) {
		var res []any
		for pruned := false; ; pruned = true {
			keys, err := s.members(ctx, idx, "("+strconv.FormatInt(t, 10))
			if err != nil {
				return nil, wrap(ctx, op, err)
			}
			if len(keys) == 1 {
				break
			}
			res, err = listScript.Run(ctx, s.c, keys, t).Slice()
			if isTryAgain(err) && !pruned {
				if n, perr := s.pruneGone(ctx, keys); perr == nil && n > 0 {
					continue // read the members again, once
				}
			}
			if err != nil {
				return nil, wrap(ctx, op, err)
			}
			break
		}
		if res == nil {
			continue
		}
		if len(res) == 0 || len(res)%2 != 1 {
			return nil, fmt.Errorf("redisstore: %s: unexpected reply of %d items", op, len(res))
		}
		if n, _ := res[0].(int64); n > 0 {
			s.writes.Add(1)
		}
		for i := 1; i < len(res); i += 2 {
			id, _ := res[i].(string)
			v, _ := res[i+1].(string)
			if !store.ValidID(id) {
				return nil, errCorrupt
			}
			x, err := decode(id, []byte(v))
			if err != nil {
				return nil, err
			}
			// A session in the subject's index is the subject's: another
			// subject's was not written by this package.
			if x.Subject != subject {
				return nil, errCorrupt
			}
			// The script judged liveness with now exactly as Live does;
			// check the fields anyway.
			if x.Live(now) {
				out = append(out, *x)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}
