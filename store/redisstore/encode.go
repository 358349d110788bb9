package redisstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
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
//	          uint16 length + Device.Label, Device.UserAgent, Device.IP,
//	          then the claims as JSON to the end of the section (none: empty)
//	        uint8 length + RefreshHash, uint8 length + SecretHash, then the
//	        spent hashes to the end, newest first, each uint8 length + hash
//
// Rotate rewrites only what follows the device and claims section, and the
// times.
const (
	formatVersion = 1
	headerLen     = 57
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
	b := make([]byte, headerLen, headerLen+2+len(s.Subject)+4+6+len(s.Device.Label)+len(s.Device.UserAgent)+len(s.Device.IP)+len(claims)+2+len(s.RefreshHash)+len(s.SecretHash)+len(s.Spent)*(1+store.HashLen))
	b[0] = formatVersion
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
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Subject)))
	b = append(b, s.Subject...)
	section := 6 + len(s.Device.Label) + len(s.Device.UserAgent) + len(s.Device.IP) + len(claims)
	b = binary.BigEndian.AppendUint32(b, uint32(section))
	for _, f := range []string{s.Device.Label, s.Device.UserAgent, s.Device.IP} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	b = append(b, claims...)
	b = appendHash(b, s.RefreshHash)
	b = appendHash(b, s.SecretHash)
	for _, h := range s.Spent {
		b = appendHash(b, h)
	}
	return b, nil
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

func (r *reader) u8() int {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16() int {
	v := r.take(2)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

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
	if len(v) < headerLen || v[0] != formatVersion {
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
	s.Subject = string(r.take(r.u16()))
	sec := reader{}
	if n := r.take(4); n != nil {
		sec.b = r.take(int(binary.BigEndian.Uint32(n)))
	}
	s.Device.Label = string(sec.take(sec.u16()))
	s.Device.UserAgent = string(sec.take(sec.u16()))
	s.Device.IP = string(sec.take(sec.u16()))
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
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	n := binary.BigEndian.Uint64(m.Sum(nil)) % tagSpace // bias below 2^-45
	var b [tagLen]byte
	for i := tagLen - 1; i >= 0; i-- {
		b[i] = alphabet[n%62]
		n /= 62
	}
	return string(b[:])
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
