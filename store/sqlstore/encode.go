package sqlstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/latchauth/latch/store"
)

// Times are kept as BIGINT milliseconds since the Unix epoch, the zero
// time.Time as 0. Every driver reads an integer the same way, whatever the
// DSN says about parseTime or loc, and comparisons with now are plain
// integer comparisons that use the indexes.

// toMS returns t as Unix milliseconds, rounded down (the zero time as 0),
// and whether that fits in an int64: about 292 million years either side
// of 1970. time.Time reaches much further, and UnixMilli silently wraps.
func toMS(t time.Time) (int64, bool) {
	if t.IsZero() {
		return 0, true
	}
	sec, m := t.Unix(), int64(t.Nanosecond()/1e6) // the value is sec*1000 + m, 0 <= m < 1000
	// sec*1000 + m <= MaxInt64, and sec*1000 + m >= MinInt64 rewritten so
	// that no step overflows (Go's division truncates toward zero, which
	// for the negative bound is the ceiling).
	if sec > (math.MaxInt64-m)/1000 || sec < (math.MinInt64+1000-m)/1000-1 {
		return 0, false
	}
	return t.UnixMilli(), true
}

// ms returns t as Unix milliseconds for a comparison, clamped to the int64
// range: every stored time is within it, so a now beyond it compares with
// every stored time as the clamped value does.
func ms(t time.Time) int64 {
	v, ok := toMS(t)
	switch {
	case ok:
		return v
	case t.Unix() > 0:
		return math.MaxInt64
	default:
		return math.MinInt64
	}
}

// storedMS returns t as Unix milliseconds for a column, or ErrInvalid
// naming the field when it is out of range: written wrapped, a far-future
// expiry would read back as long past.
func storedMS(field string, t time.Time) (int64, error) {
	v, ok := toMS(t)
	if !ok {
		return 0, fmt.Errorf("%w: %s is beyond the range of int64 Unix milliseconds (about 292 million years either side of 1970)", ErrInvalid, field)
	}
	return v, nil
}

// fromMS is the inverse of ms, in UTC.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Stored times are whole milliseconds, so for a stored T and any instant
// now: T > now exactly when T > ms(now), and T <= now - every exactly when
// T <= ms(now - every). Rounding now down therefore gives the very
// decisions the Go comparisons would.

// Spent hashes are kept as one ASCII string of fixed-width entries, newest
// first, so that Rotate can prepend the spent hash and drop the oldest
// inside its single UPDATE with string functions every dialect has
// (SQLite's || concatenates BLOBs as text, hence hex). An entry is two hex
// digits of length followed by the hash in hex, padded with '0' to
// store.HashLen bytes.
const spentWidth = 2 + 2*store.HashLen

// spentEntry encodes one spent hash of at most store.HashLen bytes.
func spentEntry(h []byte) string {
	var b strings.Builder
	b.Grow(spentWidth)
	fmt.Fprintf(&b, "%02x", len(h))
	b.WriteString(hex.EncodeToString(h))
	for b.Len() < spentWidth {
		b.WriteByte('0')
	}
	return b.String()
}

// encodeSpent encodes a whole list, newest first.
func encodeSpent(list [][]byte) (string, error) {
	var b strings.Builder
	for _, h := range list {
		if len(h) > store.HashLen {
			return "", fmt.Errorf("%w: spent hash longer than %d bytes", ErrInvalid, store.HashLen)
		}
		b.WriteString(spentEntry(h))
	}
	return b.String(), nil
}

// decodeSpent decodes what encodeSpent wrote; nil when there is none.
func decodeSpent(s string) ([][]byte, error) {
	if s == "" {
		return nil, nil
	}
	if len(s)%spentWidth != 0 {
		return nil, fmt.Errorf("sqlstore: corrupt spent column (%d characters)", len(s))
	}
	out := make([][]byte, 0, len(s)/spentWidth)
	for ; s != ""; s = s[spentWidth:] {
		var n [1]byte
		if _, err := hex.Decode(n[:], []byte(s[:2])); err != nil || int(n[0]) > store.HashLen {
			return nil, fmt.Errorf("sqlstore: corrupt spent column")
		}
		h := make([]byte, n[0])
		if _, err := hex.Decode(h, []byte(s[2:2+2*int(n[0])])); err != nil {
			return nil, fmt.Errorf("sqlstore: corrupt spent column")
		}
		out = append(out, h)
	}
	return out, nil
}

// spentChars is how many characters of the spent column keep entries
// hold, clamped to what every dialect's substring length accepts.
func spentChars(keep int) int64 {
	if keep <= 0 {
		return 0
	}
	if keep > math.MaxInt32/spentWidth {
		return math.MaxInt32
	}
	return int64(keep * spentWidth)
}

// encodeClaims returns the claims as JSON text, or nil (SQL NULL) for nil
// claims.
func encodeClaims(c map[string]any) (any, error) {
	if c == nil {
		return nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claims: %w", err)
	}
	return string(b), nil
}

// orNil passes a nil slice as SQL NULL (some drivers would bind a typed
// nil slice as an empty value).
func orNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// notNil binds nil as an empty value, for NOT NULL columns.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
