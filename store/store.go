// Package store defines the contract between latch and the place where it
// keeps per-device sessions.
//
// A Store holds one Session per login. Tokens name their session by its
// public ID and prove possession with a secret whose SHA-256 alone is kept
// here, so a dumped store yields no usable token. The contract in Store's
// doc comment is what latch relies on, edge cases included; package
// github.com/latchauth/latch/conformance checks it rule by rule against
// any Store.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns. Any other error means the backend failed: the
// caller treats it as "unavailable" and never as "not found".
var (
	// ErrNotFound: the session is absent, revoked, idle-expired or past its
	// absolute expiry.
	ErrNotFound = errors.New("store: session not found")
	// ErrConflict: a Rotate lost the compare-and-swap because the refresh
	// hash it expected is no longer current.
	ErrConflict = errors.New("store: refresh hash changed")
)

// Limits every Store may rely on; the core refuses anything larger before
// it reaches a Store.
const (
	MaxSubjectLen = 1024 // bytes of valid UTF-8, no NUL
	MaxDeviceLen  = 1024 // bytes, for each Device field
	IDLen         = 22   // characters of a session id, base62
	HashLen       = 32   // bytes of a SHA-256 digest
)

// Device describes the device a session was opened on: what a "your
// devices" page shows. It is informational and never used for checks.
type Device struct {
	Label     string `json:"label,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// Session is one device's login.
type Session struct {
	// ID is assigned by Create: IDLen base62 characters, unique, not secret.
	ID      string
	Subject string
	Device  Device

	// The hashes are tagged json:"-" so a Session logged or served as JSON
	// never carries them; a store that keeps sessions as JSON must encode
	// them itself.
	//
	// SecretHash is SHA-256 of the opaque access secret; nil when access
	// tokens are JWTs.
	SecretHash []byte `json:"-"`
	// RefreshHash is SHA-256 of the current refresh secret.
	RefreshHash []byte `json:"-"`
	// Spent holds hashes of recently spent refresh secrets, newest first,
	// for reuse detection. Its length is bounded by Rotation.KeepSpent.
	Spent [][]byte `json:"-"`

	// Claims are the application's claims, kept so every mode sees the same
	// ones. Values are anything encoding/json can round-trip.
	Claims map[string]any

	CreatedAt  time.Time
	LastUsedAt time.Time
	// RotatedAt is when Rotate last replaced RefreshHash (zero before the
	// first rotation): a spent hash presented moments later is a
	// concurrent refresh that lost the race, not a replay.
	RotatedAt time.Time
	// FreshUntil: the session counts as freshly authenticated before this
	// instant. Zero means not fresh.
	FreshUntil time.Time
	// AccessExpiresAt bounds the current opaque access secret; zero when
	// access tokens are JWTs.
	AccessExpiresAt time.Time
	// IdleUntil slides forward on use; ExpiresAt never moves.
	IdleUntil time.Time
	ExpiresAt time.Time

	// IdleTimeout, when positive, is this session's own idle timeout,
	// chosen at login and shorter than the configured one (a login that
	// asked not to be remembered): Touch slides IdleUntil by no more than
	// this. Zero: the idle timeout each Touch passes.
	IdleTimeout time.Duration
	// Actor, when set, is who acts for Subject in a delegated session
	// ("log in as" for support staff, RFC 8693's act claim). Nil for the
	// subject's own login.
	Actor *Actor
}

// Actor names the staff member acting in a delegated session: their
// subject and the session they acted from.
type Actor struct {
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
}

// Live reports whether s has neither idled out nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return now.Before(s.IdleUntil) && now.Before(s.ExpiresAt)
}

// Rotation is the change Rotate applies when the refresh hash still equals
// Old.
type Rotation struct {
	Old             []byte // the refresh hash the caller saw
	RefreshHash     []byte // the new refresh hash
	SecretHash      []byte // the new access hash (nil in JWT modes)
	AccessExpiresAt time.Time
	IdleUntil       time.Time
	// FreshUntil replaces the session's: refreshing never makes a session
	// fresher than it was, so the core passes zero.
	FreshUntil time.Time
	// KeepSpent bounds Session.Spent: Old is prepended and the oldest are
	// dropped beyond this many.
	KeepSpent int
}

// Store keeps sessions. Implementations must be safe for concurrent use
// from many processes sharing one backend.
//
// The contract:
//
//   - Times are compared with the now the caller passes; a Store never reads
//     the clock for a decision (it may use it for clean-up TTLs, since now
//     only moves forward from the real time). A session is live at now when
//     now is before both IdleUntil and ExpiresAt; anything else is
//     ErrNotFound, exactly as if it did not exist.
//   - Byte slices come back byte for byte; times come back to the
//     millisecond at least, in any location; Claims come back as
//     encoding/json would decode them (numbers as float64). A Store never
//     keeps the caller's slices or maps, and what it returns is the
//     caller's to change.
//   - Errors: ErrNotFound and ErrConflict as documented per method; any
//     backend failure is returned as an error that is neither, and never as
//     a session or as "not found". A done ctx returns promptly with an error
//     wrapping ctx.Err().
//   - Revocation is idempotent and scoped by subject: no call ever ends a
//     session of a subject other than the one it names, and nothing brings
//     an ended session back.
type Store interface {
	// Create assigns s.ID and stores s. With max > 0, when the subject would
	// then hold more than max live sessions, the oldest of its other
	// sessions (by CreatedAt, then ID descending: the end of List's order)
	// are deleted in the same atomic step, so no interleaving of concurrent
	// Creates leaves more than max. The new session itself is never evicted.
	// Liveness here is judged at s.CreatedAt.
	Create(ctx context.Context, s *Session, max int) error

	// Get returns the live session with id, or ErrNotFound.
	Get(ctx context.Context, id string, now time.Time) (*Session, error)

	// Touch records a use at now: LastUsedAt = now and IdleUntil =
	// min(now+idle, ExpiresAt), where idle is the session's IdleTimeout
	// instead when that is positive and shorter. When the recorded LastUsedAt is younger
	// than every, it writes nothing. A session that is not live is
	// ErrNotFound. Touch changes those two fields alone, atomically: racing
	// a Rotate it never restores the old hashes, and racing a revocation or
	// an eviction it never brings the session back.
	Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error

	// Rotate applies r if the live session's RefreshHash equals r.Old, as
	// one compare-and-swap: of concurrent callers with the same r.Old
	// exactly one succeeds and the others get ErrConflict, each only once
	// the winner's change can be read (a Get that follows no longer shows
	// r.Old as the refresh hash), so that a loser can answer from it. It also sets
	// LastUsedAt = RotatedAt = now and prepends r.Old to Spent. A session that is not
	// live is ErrNotFound.
	Rotate(ctx context.Context, id string, r Rotation, now time.Time) error

	// Freshen sets the live session's FreshUntil to until (step-up: the
	// user proved who they are again), changing no other field,
	// atomically: like Touch, it never restores an old hash nor brings an
	// ended session back. A session that is not live at now is
	// ErrNotFound.
	Freshen(ctx context.Context, id string, until, now time.Time) error

	// Revoke deletes subject's session id. An absent session, or one that
	// belongs to another subject, is left alone and is not an error.
	Revoke(ctx context.Context, subject, id string) error

	// RevokeSubject deletes every session of subject except keep ("" keeps
	// none) and returns how many it deleted (sessions that had already
	// expired but were not yet cleaned up may be counted).
	RevokeSubject(ctx context.Context, subject, keep string) (int, error)

	// List returns subject's live sessions at now, newest first (CreatedAt
	// descending), ties broken by ID ascending in byte order.
	List(ctx context.Context, subject string, now time.Time) ([]Session, error)
}

// Bounded is an optional interface for a Store whose every method returns
// soon after its context is done, whatever its backend does: no call
// waits on a read or a lock that ignores the context. latch calls such a
// store directly. It runs every other store's calls in a goroutine of
// their own, so that a call stuck past the store timeout still gets its
// request an answer; that costs a few microseconds a call, next to
// nothing beside a network round trip. A wrapper that embeds a Store does
// not pass Bounded on unless it implements it itself.
type Bounded interface {
	Store
	// Bounded reports whether every method returns promptly once its
	// context is done.
	Bounded() bool
}

// Throttle is an optional Store capability: counters of failed logins,
// one record per bucket key, that latch's login throttling keeps in the
// store so that every instance sharing it sees the same counts. Every
// store of latch implements it. Records expire, so the memory they take
// stays bounded by the failures of the last ttl.
type Throttle interface {
	Store
	// AddStrike records one failure against key at now, atomically across
	// processes: a record that is absent or expired at now restarts at
	// Count 1, any other grows by one. Last becomes now (or stays, if it
	// was later) and the record expires at Last+ttl. It returns the
	// record as it now stands.
	AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (Strikes, error)
	// Strikes returns the records of keys at now, in the order of keys; an
	// absent or expired key reads as the zero Strikes.
	Strikes(ctx context.Context, keys []string, now time.Time) ([]Strikes, error)
	// ClearStrikes deletes the records of keys; absent ones are no error.
	ClearStrikes(ctx context.Context, keys []string) error
}

// Strikes is one bucket's record of failed logins.
type Strikes struct {
	Count int       // failures since the record last started
	Last  time.Time // the latest failure
}

// MaxStrikeKeyLen bounds a Throttle key: printable ASCII, never empty.
const MaxStrikeKeyLen = 64

// Watcher is an optional Store capability: the store tells every process
// that shares its backend of each change that ends or alters a session,
// so that each can keep a local cache of sessions and still refuse an
// ended one at once (latch's Config.SessionCache). A store that
// implements it reports, through Watch, every Revoke and RevokeSubject
// that deletes a session, every session Create evicts, every Rotate and
// every Freshen, whichever process made it. Touch and Create's own
// session need no report, nor does expiry: a cache judges those from the
// times it holds.
//
// A report may name more than changed (a Revoke of an absent session may
// be reported, a RevokeSubject may report the subject instead of each
// session), never less, and arrives once the change can be read.
type Watcher interface {
	Store
	// Watches reports whether this store value can report its changes: a
	// store type may implement Watcher for some backends or settings
	// only. When it reports false, the other methods fail.
	Watches() bool
	// Watch subscribes to the backend's changes and calls fn for each, one
	// call at a time, in the order the backend delivers them: first a
	// ChangeReady once the subscription stands (every change made after it
	// will be delivered), then the changes. It returns when ctx is done,
	// or with an error when the subscription breaks: changes may then have
	// been lost, and the caller must assume anything changed and watch
	// again.
	Watch(ctx context.Context, fn func(Change)) error
	// Beat sends a heartbeat named id to the Watches of this store value,
	// and may send it to every Watch on the backend (sqlstore's polling
	// stores send it to their own only): each receives it as a ChangeBeat
	// after the report of every change that returned before Beat was
	// called, whichever process made it. A watcher that gets its own beat
	// back knows it missed nothing older.
	Beat(ctx context.Context, id string) error
}

// ChangeKind says what a Change reports.
type ChangeKind uint8

// The kinds of Change.
const (
	// ChangeReady: the subscription stands; ID is empty.
	ChangeReady ChangeKind = iota + 1
	// ChangeSession: the session named by ID ended or changed.
	ChangeSession
	// ChangeSubject: any session of the subject named by ID may have
	// ended.
	ChangeSubject
	// ChangeBeat: the heartbeat named by ID (Watcher.Beat).
	ChangeBeat
)

// Change is one report of a Watcher.
type Change struct {
	Kind ChangeKind
	ID   string // a session id, a subject or a beat's id, by Kind
}

// MaxBeatLen bounds a Watcher.Beat id: printable ASCII (spaces included), never empty.
const MaxBeatLen = 64
