package redisstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	gohash "hash"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// Keys. A tag is the first tagLen characters of an id; every key of one
// tag is in the slot of "{tag}", the first braces of the key (the prefix
// holds none).

func (s *Store) slot(tag string) string { return s.prefix + "{" + tag + "}" }

// sessionKey is <prefix>{<tag>}:s:<id>.
func (s *Store) sessionKey(id string) string { return s.slot(id[:tagLen]) + ":s:" + id }

// strikeKey is <prefix>{<key>}:t, one throttle bucket: the key in braces
// so that buckets spread over the hash slots. It ends in "}:t", which no
// session key or index ends with (their ends are an id and a digest), so
// no bucket key, whatever it holds, names a session or an index.
func (s *Store) strikeKey(key string) string { return s.prefix + "{" + key + "}:t" }

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

// hasTag reports whether one of the routing keys gives subject the tag
// t, without allocating: Get asks it of every session it reads. The
// keys' HMAC states come from pools (see fromConfig), reset before use.
func (s *Store) hasTag(subject, t string) bool {
	for i := range s.keys {
		m := s.macs[i].Get().(gohash.Hash)
		m.Reset()
		b := tagWith(m, subject)
		s.macs[i].Put(m)
		if string(b[:]) == t {
			return true
		}
	}
	return false
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
// described in doc.go), so removing its member is safe. It is
// best-effort: a failure goes to the error hook, and the caller's own
// error (the TRYAGAIN) stands.
func (s *Store) pruneGone(ctx context.Context, op string, keys []string) int {
	n := 0
	for _, k := range keys[1:] {
		e, err := s.c.Exists(ctx, k).Result()
		if e == 0 && err == nil {
			var r int64
			r, err = s.c.ZRem(ctx, keys[0], k[len(k)-store.IDLen:]).Result()
			n += int(r)
		}
		if err != nil {
			s.kit.Report(s.wrap(ctx, op+": pruning members of gone sessions", err))
			break
		}
	}
	return n
}
