package mongostore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

// The kinds of document in the collection; field k.
const (
	kindSession  = "s" // one per session, _id = session id
	kindActivity = "a" // the uses Touch records, _id = id + "/a"
	kindClaim    = "r" // a won rotation, _id = id + "/r/" + generation
	kindLock     = "l" // a turn at capped logins of one subject: see lock.go
	kindDone     = "d" // the end of that turn
	kindFresh    = "f" // the step-up Freshen recorded, _id = id + "/f"
)

// doc is every kind of document; fields a kind does not use stay empty
// and are left out.
type doc struct {
	ID      string `bson:"_id"`
	Kind    string `bson:"k"`
	SID     string `bson:"sid"` // the session's id, in every kind
	Subject string `bson:"sub"` // the session's subject, in every kind

	// Session.
	Label       any           `bson:"dl,omitempty"`
	UserAgent   any           `bson:"du,omitempty"`
	IP          any           `bson:"di,omitempty"`
	SecretHash  []byte        `bson:"sh,omitempty"`
	RefreshHash []byte        `bson:"rh,omitempty"`
	Spent       [][]byte      `bson:"sp,omitempty"`
	Claims      string        `bson:"cl,omitempty"` // JSON
	Gen         int64         `bson:"g"`            // rotations so far
	Created     bson.DateTime `bson:"ca,omitempty"`
	Rotated     bson.DateTime `bson:"ra,omitempty"`
	Nonce       string        `bson:"rn,omitempty"` // of the rotation that made g (and of a claim)
	Fresh       bson.DateTime `bson:"fu,omitempty"`
	AccessExp   bson.DateTime `bson:"ae,omitempty"`
	Expires     bson.DateTime `bson:"ea,omitempty"`
	IdleTimeout int64         `bson:"it,omitempty"` // nanoseconds
	Actor       *actorDoc     `bson:"ac,omitempty"`

	// Session (as of Create or the last Rotate) and activity.
	LastUsed bson.DateTime `bson:"lu,omitempty"`
	Idle     bson.DateTime `bson:"iu,omitempty"`

	// The fresh document carries Gen (the generation it was written at)
	// and Fresh.

	// ExpireAt is when the document may go: the session's absolute
	// expiry. The TTL index and Sweep delete by it.
	ExpireAt bson.DateTime `bson:"x"`
}

// actorDoc is a Session.Actor; its fields are encoded as device fields
// are, so they come back byte for byte.
type actorDoc struct {
	Subject any `bson:"sub"`
	SID     any `bson:"sid"`
}

func activityID(id string) string { return id + "/a" }

func freshID(id string) string { return id + "/f" }

// claimID names the claim of rotation number gen of session id. Fixed
// width, so claims of one session sort by generation.
func claimID(id string, gen int64) string {
	return fmt.Sprintf("%s/r/%020d", id, gen)
}

// Times are BSON dates, whole milliseconds since 1970. The zero
// time.Time is left out of the document and reads back as zero.
var (
	minTime = time.UnixMilli(math.MinInt64 + 1)
	maxTime = time.UnixMilli(math.MaxInt64)
)

func date(t time.Time) bson.DateTime {
	if t.IsZero() {
		return 0
	}
	return bson.DateTime(t.UnixMilli())
}

func fromDate(d bson.DateTime) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(d)).UTC()
}

// nowDate is now as a date for comparisons: rounded down to the
// millisecond, which decides the same as the exact instant since stored
// times are whole milliseconds, and clamped to the range of dates.
func nowDate(now time.Time) bson.DateTime {
	switch {
	case now.Before(minTime):
		return bson.DateTime(math.MinInt64 + 1)
	case now.After(maxTime):
		return bson.DateTime(math.MaxInt64)
	}
	return bson.DateTime(now.UnixMilli())
}

// checkTime refuses a time beyond the range of BSON dates. (An instant
// exactly at the Unix epoch is stored as 0 and reads back as the zero
// time, as in sqlstore.)
func checkTime(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("%w: %s is beyond the range of BSON dates", ErrInvalid, what)
	}
	return nil
}

// deviceField keeps a device string byte for byte: a BSON string when it
// is valid UTF-8 (BSON strings must be), BSON binary otherwise.
func deviceField(s string) any {
	switch {
	case s == "":
		return nil
	case utf8.ValidString(s):
		return s
	}
	return []byte(s)
}

func fromDeviceField(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bson.Binary:
		return string(x.Data)
	case []byte:
		return string(x)
	}
	return ""
}

// checkSessionTimes refuses a time of s beyond the range of BSON dates;
// storekit.Gate.CheckSession checks the rest.
func checkSessionTimes(s *store.Session) error {
	return checkTimes(map[string]time.Time{
		"CreatedAt": s.CreatedAt, "LastUsedAt": s.LastUsedAt, "RotatedAt": s.RotatedAt,
		"FreshUntil": s.FreshUntil, "AccessExpiresAt": s.AccessExpiresAt,
		"IdleUntil": s.IdleUntil, "ExpiresAt": s.ExpiresAt,
	})
}

// checkRotationTimes refuses a time of r beyond the range of BSON dates;
// storekit.Gate.CheckRotation checks the rest.
func checkRotationTimes(r *store.Rotation) error {
	return checkTimes(map[string]time.Time{
		"AccessExpiresAt": r.AccessExpiresAt, "IdleUntil": r.IdleUntil, "FreshUntil": r.FreshUntil,
	})
}

func checkTimes(ts map[string]time.Time) error {
	for name, t := range ts {
		if err := checkTime(name, t); err != nil {
			return err
		}
	}
	return nil
}

// sessionDoc encodes s, whose ID is set, as a session document.
func sessionDoc(s *store.Session) (*doc, error) {
	d := &doc{
		ID:          s.ID,
		Kind:        kindSession,
		SID:         s.ID,
		Subject:     s.Subject,
		Label:       deviceField(s.Device.Label),
		UserAgent:   deviceField(s.Device.UserAgent),
		IP:          deviceField(s.Device.IP),
		SecretHash:  bytes.Clone(s.SecretHash),
		RefreshHash: bytes.Clone(s.RefreshHash),
		Created:     date(s.CreatedAt),
		Rotated:     date(s.RotatedAt),
		Fresh:       date(s.FreshUntil),
		AccessExp:   date(s.AccessExpiresAt),
		Expires:     date(s.ExpiresAt),
		LastUsed:    date(s.LastUsedAt),
		Idle:        date(s.IdleUntil),
		ExpireAt:    date(s.ExpiresAt),
		IdleTimeout: int64(s.IdleTimeout),
	}
	if a := s.Actor; a != nil { // storekit.Gate.CheckSession checked its limits
		d.Actor = &actorDoc{Subject: deviceField(a.Subject), SID: deviceField(a.SessionID)}
	}
	for _, h := range s.Spent {
		d.Spent = append(d.Spent, bytes.Clone(h))
	}
	if len(s.Claims) > 0 {
		b, err := json.Marshal(s.Claims)
		if err != nil {
			return nil, fmt.Errorf("%w: claims: %w", ErrInvalid, err)
		}
		d.Claims = string(b)
	}
	return d, nil
}

// record is a session document with the activity and fresh documents of
// the same session, if any.
type record struct {
	s *doc
	a *doc
	f *doc
}

// lastUse returns the latest recorded use and the idle expiry recorded
// with it: Rotate records a use in the session document, Touch in the
// activity document, so neither ever writes the other's document.
func (r record) lastUse() (last, idle bson.DateTime) {
	if r.a != nil && r.a.LastUsed > r.s.LastUsed {
		return r.a.LastUsed, r.a.Idle
	}
	return r.s.LastUsed, r.s.Idle
}

// freshUntil returns the session's FreshUntil: Freshen's, if it wrote
// at the session's current generation, else the one Create or the last
// Rotate wrote. A rotation after a Freshen thus replaces it, and a
// Freshen that read a generation since rotated away counts for nothing.
func (r record) freshUntil() bson.DateTime {
	if r.f != nil && r.f.Gen == r.s.Gen {
		return r.f.Fresh
	}
	return r.s.Fresh
}

// live reports whether the session is neither idle nor past its absolute
// expiry at now.
func (r record) live(now bson.DateTime) bool {
	_, idle := r.lastUse()
	return now < idle && now < r.s.Expires
}

// session decodes r.
func (r record) session() (*store.Session, error) {
	d := r.s
	last, idle := r.lastUse()
	s := &store.Session{
		ID:      d.ID,
		Subject: d.Subject,
		Device: store.Device{
			Label:     fromDeviceField(d.Label),
			UserAgent: fromDeviceField(d.UserAgent),
			IP:        fromDeviceField(d.IP),
		},
		SecretHash:      d.SecretHash,
		RefreshHash:     d.RefreshHash,
		Spent:           d.Spent,
		CreatedAt:       fromDate(d.Created),
		LastUsedAt:      fromDate(last),
		RotatedAt:       fromDate(d.Rotated),
		FreshUntil:      fromDate(r.freshUntil()),
		AccessExpiresAt: fromDate(d.AccessExp),
		IdleUntil:       fromDate(idle),
		ExpiresAt:       fromDate(d.Expires),
		IdleTimeout:     time.Duration(d.IdleTimeout),
	}
	if d.Actor != nil {
		s.Actor = &store.Actor{Subject: fromDeviceField(d.Actor.Subject), SessionID: fromDeviceField(d.Actor.SID)}
	}
	if d.Claims != "" {
		if err := json.Unmarshal([]byte(d.Claims), &s.Claims); err != nil {
			return nil, fmt.Errorf("mongostore: session %s: claims: %w", d.ID, err)
		}
	}
	return s, nil
}

// records groups the session, activity and fresh documents in docs by
// session, in the order the sessions come; claims, and activity and fresh
// documents without their session, are left out.
func records(docs []doc) []record {
	var out []record
	at := map[string]int{}
	var side []*doc
	for i := range docs {
		d := &docs[i]
		switch d.Kind {
		case kindSession:
			at[d.SID] = len(out)
			out = append(out, record{s: d})
		case kindActivity, kindFresh:
			side = append(side, d)
		}
	}
	for _, d := range side {
		i, ok := at[d.SID]
		switch {
		case !ok:
		case d.Kind == kindActivity:
			out[i].a = d
		default:
			out[i].f = d
		}
	}
	return out
}
