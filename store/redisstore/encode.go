package redisstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	gohash "hash"
	"io"
	"math"
	"time"

	"github.com/latchauth/latch/store"
)

// A session is one Redis string, so that a session costs one key whatever
// the server's hash encoding thresholds, and Get is one GET. Lua reads and
// rewrites it in place (scripts.go), which fixes the layout; offsets are
// 0-based here, 1-based in Lua:
//
//	0       version (1)
//	1..8    LastUsedAt       int64 big-endian Unix ms (the zero time as
//	                         -62135596800000, its own Unix ms)
//	9..16   IdleUntil        (Touch rewrites 1..16 alone, with SETRANGE)
//	17..24  ExpiresAt
//	25..32  CreatedAt        (a capped Create reads 1..32 with GETRANGE)
//	33..40  RotatedAt
//	41..48  FreshUntil
//	49..56  AccessExpiresAt
//	57..58  uint16 subject length, then the subject
//	        uint32 length of the device and claims section, then it:
//	          version 2 only (Touch reads the first 12 bytes):
//	            int64 IdleTimeout in whole milliseconds (rounded down)
//	            uint32 the rest of IdleTimeout in nanoseconds (0..999999)
//	            uint8 1 with an Actor, then uint16 length + Actor.Subject,
//	            Actor.SessionID; 0 without
//	          uint16 length + Device.Label, Device.UserAgent, Device.IP,
//	          then the claims as JSON to the end of the section (none: empty)
//	        uint8 length + RefreshHash, uint8 length + SecretHash, then the
//	        spent hashes to the end, newest first, each uint8 length + hash
//
// Rotate rewrites only what follows the device and claims section, and the
// times; Freshen rewrites FreshUntil alone.
//
// Version 1 is version 2 without IdleTimeout and Actor, which it reads as
// zero and nil. encode writes version 1 for a session that has neither, so
// that a process of an earlier release, which reads version 1 alone, keeps
// reading every such session during a rolling upgrade; it refuses the
// others as corrupt. IdleTimeout is split at the millisecond so that Touch,
// whose Lua numbers are exact only up to 2^53, slides by it to the exact
// millisecond, and the nanoseconds round-trip.
const (
	formatV1  = 1
	formatV2  = 2
	headerLen = 57
)

// maxMS bounds stored times: Lua numbers are doubles, exact for integers
// up to 2^53. That is about 285,000 years either side of 1970.
const maxMS = 1<<53 - 1

var (
	minTime = time.UnixMilli(-maxMS)
	maxTime = time.UnixMilli(maxMS)
)

// toMS returns t as Unix milliseconds, rounded down, or ErrInvalid naming
// field when t is beyond maxMS. The zero time is no exception: it is
// -62135596800000, so the Unix epoch itself (0) round-trips too, and every
// comparison in the scripts treats a zero time as the distant past it is.
func toMS(field string, t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("%w: %s is beyond 2^53 Unix milliseconds (about 285,000 years either side of 1970)", ErrInvalid, field)
	}
	return t.UnixMilli(), nil
}

// nowMS returns t as Unix milliseconds for a comparison, clamped to
// ±maxMS: every stored time is within that range, so a clamped instant
// compares with each as the real one does. Stored times are whole
// milliseconds, so comparing with now rounded down decides as comparing
// exact instants would.
func nowMS(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return -maxMS
	case t.After(maxTime):
		return maxMS
	}
	return t.UnixMilli()
}

// fromMS is the inverse of toMS, in UTC: the zero time's milliseconds
// give back time.Time{} itself.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// encode returns s in the layout above. s is within the limits of
// package store (Create checks them with storekit's Gate.CheckSession
// first); a time beyond maxMS, or claims encoding/json cannot encode, is
// ErrInvalid.
func encode(s *store.Session) ([]byte, error) {
	var claims []byte
	if len(s.Claims) > 0 {
		var err error
		if claims, err = json.Marshal(s.Claims); err != nil {
			return nil, fmt.Errorf("%w: claims: %w", ErrInvalid, err)
		}
	}
	ext, err := extension(s)
	if err != nil {
		return nil, err
	}
	section := len(ext) + 6 + len(s.Device.Label) + len(s.Device.UserAgent) + len(s.Device.IP) + len(claims)
	b := make([]byte, headerLen, headerLen+2+len(s.Subject)+4+section+2+len(s.RefreshHash)+len(s.SecretHash)+len(s.Spent)*(1+store.HashLen))
	b[0] = formatV1
	if ext != nil {
		b[0] = formatV2
	}
	for i, f := range [...]struct {
		name string
		at   time.Time
	}{
		{"LastUsedAt", s.LastUsedAt}, {"IdleUntil", s.IdleUntil}, {"ExpiresAt", s.ExpiresAt},
		{"CreatedAt", s.CreatedAt}, {"RotatedAt", s.RotatedAt}, {"FreshUntil", s.FreshUntil},
		{"AccessExpiresAt", s.AccessExpiresAt},
	} {
		v, err := toMS(f.name, f.at)
		if err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint64(b[1+8*i:], uint64(v))
	}
	b = appendString(b, s.Subject)
	b = binary.BigEndian.AppendUint32(b, uint32(section))
	b = append(b, ext...)
	for _, f := range []string{s.Device.Label, s.Device.UserAgent, s.Device.IP} {
		b = appendString(b, f)
	}
	b = append(b, claims...)
	b = appendHash(b, s.RefreshHash)
	b = appendHash(b, s.SecretHash)
	for _, h := range s.Spent {
		b = appendHash(b, h)
	}
	return b, nil
}

// extension returns what version 2 adds at the start of the device and
// claims section, or nil for a session that needs version 1. An Actor
// field longer than 65,535 bytes is ErrInvalid.
func extension(s *store.Session) ([]byte, error) {
	if s.IdleTimeout == 0 && s.Actor == nil {
		return nil, nil
	}
	ms, ns := splitMS(s.IdleTimeout)
	b := make([]byte, 0, 13)
	b = binary.BigEndian.AppendUint64(b, uint64(ms))
	b = binary.BigEndian.AppendUint32(b, uint32(ns))
	if s.Actor == nil {
		return append(b, 0), nil
	}
	if len(s.Actor.Subject) > math.MaxUint16 || len(s.Actor.SessionID) > math.MaxUint16 {
		return nil, fmt.Errorf("%w: actor field longer than %d bytes", ErrInvalid, math.MaxUint16)
	}
	b = append(b, 1)
	b = appendString(b, s.Actor.Subject)
	return appendString(b, s.Actor.SessionID), nil
}

// splitMS returns d as whole milliseconds, rounded down, and the
// nanoseconds left over (0 to 999,999): d = ms*1e6 + ns, in int64
// arithmetic that wraps back to d even for the shortest Duration.
func splitMS(d time.Duration) (ms, ns int64) {
	ms, ns = int64(d/time.Millisecond), int64(d%time.Millisecond)
	if ns < 0 {
		ms, ns = ms-1, ns+int64(time.Millisecond)
	}
	return ms, ns
}

// appendString appends a uint16 length, then f.
func appendString(b []byte, f string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
	return append(b, f...)
}

func appendHash(b, h []byte) []byte {
	b = append(b, byte(len(h)))
	return append(b, h...)
}

// reader takes a stored session apart, remembering the first fault.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// uint returns the next size bytes as a big-endian number, 0 on a fault.
func (r *reader) uint(size int) uint64 {
	var n uint64
	for _, c := range r.take(size) {
		n = n<<8 | uint64(c)
	}
	return n
}

func (r *reader) u8() int { return int(r.uint(1)) }

// str returns the next string, a uint16 length first.
func (r *reader) str() string { return string(r.take(int(r.uint(2)))) }

// bytes returns a copy of the next n bytes, nil for none.
func (r *reader) bytes(n int) []byte {
	v := r.take(n)
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// decode is the inverse of encode; the session's ID is id.
func decode(id string, v []byte) (*store.Session, error) {
	if len(v) < headerLen || (v[0] != formatV1 && v[0] != formatV2) {
		return nil, errCorrupt
	}
	var t [7]time.Time
	for i := range t {
		t[i] = fromMS(int64(binary.BigEndian.Uint64(v[1+8*i:])))
	}
	s := &store.Session{
		ID:         id,
		LastUsedAt: t[0], IdleUntil: t[1], ExpiresAt: t[2], CreatedAt: t[3],
		RotatedAt: t[4], FreshUntil: t[5], AccessExpiresAt: t[6],
	}
	r := reader{b: v[headerLen:]}
	s.Subject = r.str()
	sec := reader{b: r.take(int(r.uint(4)))}
	if v[0] == formatV2 {
		ms, ns := int64(sec.uint(8)), int64(sec.uint(4))
		s.IdleTimeout = time.Duration(ms*int64(time.Millisecond) + ns)
		switch sec.u8() {
		case 0:
		case 1:
			s.Actor = &store.Actor{Subject: sec.str(), SessionID: sec.str()}
		default:
			sec.bad = true
		}
		sec.bad = sec.bad || ns >= int64(time.Millisecond)
	}
	s.Device.Label = sec.str()
	s.Device.UserAgent = sec.str()
	s.Device.IP = sec.str()
	s.RefreshHash = r.bytes(r.u8())
	s.SecretHash = r.bytes(r.u8())
	for len(r.b) > 0 && !r.bad {
		h := r.bytes(r.u8())
		if h == nil {
			h = []byte{}
		}
		s.Spent = append(s.Spent, h)
	}
	if r.bad || sec.bad {
		return nil, errCorrupt
	}
	if len(sec.b) > 0 {
		if err := json.Unmarshal(sec.b, &s.Claims); err != nil {
			return nil, fmt.Errorf("%w: claims: %w", errCorrupt, err)
		}
	}
	return s, nil
}

// Ids: a routing tag of tagLen base62 characters, then randLen random
// ones. The tag puts every key of a subject in one Redis Cluster hash
// slot; the rest is 19 characters from crypto/rand, log2(62^19) ≈ 113
// bits, beyond the 110 the ids need to stay unguessable and unique.
const (
	tagLen  = 3
	randLen = store.IDLen - tagLen
	// tagSpace is how many tags there are: 62^3 = 238,328, against 16,384
	// hash slots, so subjects spread evenly over the slots.
	tagSpace = 62 * 62 * 62
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// tag returns subject's routing tag under key: HMAC-SHA256, reduced to
// tagLen base62 characters. Without the key, an id's tag says nothing
// about its subject.
func tag(key []byte, subject string) string {
	b := tagWith(hmac.New(sha256.New, key), subject)
	return string(b[:])
}

// tagWith is tag with m, an HMAC-SHA256 state of the key, fresh or reset.
func tagWith(m gohash.Hash, subject string) (b [tagLen]byte) {
	io.WriteString(m, subject)
	var sum [sha256.Size]byte
	n := binary.BigEndian.Uint64(m.Sum(sum[:0])) % tagSpace // bias below 2^-45
	for i := tagLen - 1; i >= 0; i-- {
		b[i] = alphabet[n%62]
		n /= 62
	}
	return b
}

// newID returns a fresh id carrying tag.
func newID(tag string) string {
	id := make([]byte, store.IDLen)
	copy(id, tag)
	var buf [2 * randLen]byte
	for i := tagLen; i < store.IDLen; {
		rand.Read(buf[:]) // never fails (crypto/rand, Go 1.24+)
		for _, c := range buf {
			// 248 = 4*62: bytes beyond it would favour some characters.
			if c < 248 && i < store.IDLen {
				id[i] = alphabet[c%62]
				i++
			}
		}
	}
	return string(id)
}
