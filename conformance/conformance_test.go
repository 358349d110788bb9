package conformance_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// flawed stores each break one clause of the contract, the way real
// stores get it wrong. TestSuiteCatchesFlawedStores shows the suite fails
// each one, on the rule that names its flaw.
var flawed = map[string]struct {
	wrap func(*memstore.Store) store.Store // the flawed store, often a wrapper of a memstore
	// rules that must fail; every other rule may pass or fail.
	fails []string
}{
	"read-then-write-rotate": {
		func(m *memstore.Store) store.Store { return racyRotate{m} },
		[]string{"rotate-compare-and-swap-64-racers"},
	},
	"conflict-before-the-winner-lands": {
		func(m *memstore.Store) store.Store { return &earlyConflict{Store: m} },
		[]string{"rotate-compare-and-swap-64-racers"},
	},
	"insert-then-trim-cap": {
		func(m *memstore.Store) store.Store { return racyCap{m} },
		[]string{"cap-atomic-under-32-concurrent-logins"},
	},
	"revoke-ignores-subject": {
		func(m *memstore.Store) store.Store { return revokeAnyone{m} },
		[]string{"revoke-needs-the-owning-subject"},
	},
	"store-reads-its-own-clock": {
		func(m *memstore.Store) store.Store { return ownClock{m} },
		[]string{"expiry-idle", "expiry-absolute"},
	},
	"touch-always-writes": {
		func(m *memstore.Store) store.Store { return eagerTouch{m} },
		[]string{"touch-throttled-inside-interval"},
	},
	"list-unordered": {
		func(m *memstore.Store) store.Store { return unordered{m} },
		[]string{"list-newest-first-ties-by-id", "list-1000-sessions"},
	},
	"ignores-context": {
		func(m *memstore.Store) store.Store { return deaf{m} },
		[]string{"context-canceled-returns-promptly", "context-deadline-returns-promptly"},
	},
	"case-insensitive-subjects": {
		func(m *memstore.Store) store.Store { return foldCase{m} },
		[]string{"strings-subjects-kept-exactly", "revoke-needs-the-owning-subject"},
	},
	"touch-reads-then-writes-whole-session": {
		func(*memstore.Store) store.Store { return &touchRewrites{NewListStore()} },
		[]string{"race-touch-vs-revoke", "race-touch-vs-revoke-subject", "race-touch-vs-cap-eviction", "race-touch-vs-rotate"},
	},
	"rotate-reads-then-writes-whole-session": {
		func(*memstore.Store) store.Store { return &rotateRewrites{NewListStore()} },
		[]string{"race-rotate-vs-revoke", "rotate-compare-and-swap-64-racers"},
	},
	"cap-evicts-least-recently-used": {
		func(*memstore.Store) store.Store { return &evictsLRU{NewListStore()} },
		[]string{"cap-evicts-oldest"},
	},
	"outage-reads-as-not-found": {
		func(m *memstore.Store) store.Store { return m }, // and the broken store below
		[]string{"backend-failure-is-an-error-not-absence"},
	},
	"drops-idle-timeout": {
		func(m *memstore.Store) store.Store { return dropsIdleTimeout{m} },
		[]string{"get-round-trips-idle-timeout"},
	},
	"own-login-reads-as-empty-actor": {
		func(m *memstore.Store) store.Store { return emptyActor{m} },
		[]string{"get-round-trips-actor"},
	},
	"idle-timeout-replaces-touch-idle": {
		func(m *memstore.Store) store.Store { return idleTimeoutReplaces{m} },
		[]string{"touch-honours-session-idle-timeout"},
	},
	"rotate-resets-per-login-fields": {
		func(*memstore.Store) store.Store { return &rotateResets{NewListStore()} },
		[]string{"rotate-keeps-per-login-lifetimes"},
	},
	"freshen-counts-as-a-use": {
		func(m *memstore.Store) store.Store { return freshenTouches{m} },
		[]string{"freshen-sets-fresh-until-only"},
	},
	"freshen-ignores-missing-sessions": {
		func(m *memstore.Store) store.Store { return freshenBlind{m} },
		[]string{"freshen-absent-is-not-found"},
	},
	"freshen-reads-then-writes-whole-session": {
		func(*memstore.Store) store.Store { return &freshenRewrites{NewListStore()} },
		[]string{"race-freshen-vs-revoke", "race-freshen-vs-rotate"},
	},
	"add-strike-returns-the-old-record": {
		func(*memstore.Store) store.Store { return &strikeBefore{NewListStore()} },
		[]string{"throttle-counts-strikes"},
	},
	"expired-strikes-keep-counting": {
		func(*memstore.Store) store.Store { return &strikesNeverRestart{NewListStore()} },
		[]string{"throttle-expired-record-restarts"},
	},
	"strike-last-follows-now": {
		func(*memstore.Store) store.Store { return &lastFollowsNow{NewListStore()} },
		[]string{"throttle-last-never-moves-backwards"},
	},
	"strikes-skips-absent-keys": {
		func(*memstore.Store) store.Store { return &strikesFound{NewListStore()} },
		[]string{"throttle-strikes-in-key-order"},
	},
	"clear-strikes-clears-the-first-key": {
		func(*memstore.Store) store.Store { return &clearsFirst{NewListStore()} },
		[]string{"throttle-clear-strikes"},
	},
	"case-insensitive-strike-keys": {
		func(*memstore.Store) store.Store { return &foldKeys{NewListStore()} },
		[]string{"throttle-keys-isolated"},
	},
	"read-then-write-add-strike": {
		func(*memstore.Store) store.Store { return &racyStrike{NewListStore()} },
		[]string{"throttle-atomic-across-instances"},
	},
	"strike-keys-coerced-not-refused": {
		func(*memstore.Store) store.Store { return &coerceKeys{NewListStore()} },
		[]string{"throttle-invalid-keys-refused"},
	},
	"outage-reads-as-no-strikes": {
		func(m *memstore.Store) store.Store { return m }, // and the broken store below
		[]string{"backend-failure-is-an-error-not-absence"},
	},
}

// TestFlawedStore is the entry point TestSuiteCatchesFlawedStores runs in
// a child process; in a normal run it has nothing to do.
func TestFlawedStore(t *testing.T) {
	name := os.Getenv("CONFORMANCE_FLAW")
	if name == "" {
		return
	}
	f := flawed[name]
	conformance.Run(t, func(t *testing.T) store.Store {
		return f.wrap(memstore.New())
	}, conformance.WithBroken(func(t *testing.T) store.Store {
		return outage{
			notFound:  name == "outage-reads-as-not-found",
			noStrikes: name == "outage-reads-as-no-strikes",
		}
	}))
}

func TestSuiteCatchesFlawedStores(t *testing.T) {
	for name, f := range flawed {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedStore$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "CONFORMANCE_FLAW="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with the flaw %q", name)
			}
			for _, rule := range f.fails {
				if !strings.Contains(string(out), "--- FAIL: TestFlawedStore/"+rule+" ") {
					t.Errorf("flaw %q: rule %s did not fail; output:\n%s", name, rule, tail(out))
				}
			}
			if !strings.Contains(string(out), "conformance: TestFlawedStore: ") {
				t.Errorf("flaw %q: no summary line in the output", name)
			}
		})
	}
}

// TestSessionsOnlyStore is the entry point TestSuiteLeavesOutThrottle
// runs in a child process: the suite on a store without store.Throttle.
func TestSessionsOnlyStore(t *testing.T) {
	if os.Getenv("CONFORMANCE_SESSIONS_ONLY") == "" {
		return
	}
	conformance.Run(t, func(t *testing.T) store.Store { return sessionsOnly{memstore.New()} })
}

// TestSuiteLeavesOutThrottle: a store without the optional store.Throttle
// passes, and the summary says which rules it left out and why.
func TestSuiteLeavesOutThrottle(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSessionsOnlyStore$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "CONFORMANCE_SESSIONS_ONLY=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite failed a correct store without store.Throttle: %v\n%s", err, tail(out))
	}
	for _, want := range []string{
		"rules ran, ",
		"(1 backend-failure rule(s) need WithBroken)",
		"(8 throttle rule(s) left out: the store does not implement store.Throttle)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the summary lacks %q; output:\n%s", want, tail(out))
		}
	}
	if strings.Contains(string(out), "TestSessionsOnlyStore/throttle-") {
		t.Errorf("a throttle rule ran on a store without store.Throttle; output:\n%s", tail(out))
	}
}

// sessionsOnly hides the store.Throttle methods of the store it holds.
type sessionsOnly struct{ store.Store }

// TestSuitePassesOutageStore: the correct outage stand-in passes the
// backend-failure rule, so the flaw above is what fails it.
func TestSuitePassesOutageStore(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store { return memstore.New() },
		conformance.WithBroken(func(t *testing.T) store.Store { return outage{} }))
}

func tail(b []byte) string {
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// racyRotate checks the hash, then writes whatever is current: two
// refreshes of one token can both win.
type racyRotate struct{ *memstore.Store }

func (s racyRotate) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	x, err := s.Get(ctx, id, now)
	if err != nil {
		return err
	}
	if string(x.RefreshHash) != string(r.Old) {
		return store.ErrConflict
	}
	time.Sleep(time.Millisecond)
	cur, err := s.Get(ctx, id, now)
	if err != nil {
		return err
	}
	r.Old = cur.RefreshHash
	return s.Store.Rotate(ctx, id, r, now)
}

// racyCap inserts, then trims the subject's sessions in a second step.
type racyCap struct{ *memstore.Store }

func (s racyCap) Create(ctx context.Context, x *store.Session, max int) error {
	if err := s.Store.Create(ctx, x, 0); err != nil || max <= 0 {
		return err
	}
	time.Sleep(2 * time.Millisecond)
	l, err := s.List(ctx, x.Subject, x.CreatedAt)
	if err != nil {
		return err
	}
	l = slices.DeleteFunc(l, func(o store.Session) bool { return o.ID == x.ID })
	for _, o := range l[min(len(l), max-1):] {
		s.Revoke(ctx, o.Subject, o.ID)
	}
	return nil
}

// revokeAnyone deletes by id alone.
type revokeAnyone struct{ *memstore.Store }

func (s revokeAnyone) Revoke(ctx context.Context, subject, id string) error {
	x, err := s.Get(ctx, id, time.Now().Add(time.Hour*24*365))
	if err != nil {
		x, err = s.Get(ctx, id, time.Now())
	}
	if err != nil {
		return nil
	}
	return s.Store.Revoke(ctx, x.Subject, id)
}

// ownClock judges expiry by the wall clock instead of the now it is given.
type ownClock struct{ *memstore.Store }

func (s ownClock) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	return s.Store.Get(ctx, id, time.Now())
}

func (s ownClock) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	return s.Store.List(ctx, subject, time.Now())
}

// eagerTouch writes on every touch.
type eagerTouch struct{ *memstore.Store }

func (s eagerTouch) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	return s.Store.Touch(ctx, id, now, idle, 0)
}

// unordered returns sessions oldest first.
type unordered struct{ *memstore.Store }

func (s unordered) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	l, err := s.Store.List(ctx, subject, now)
	slices.Reverse(l)
	return l, err
}

// deaf ignores its context.
type deaf struct{ *memstore.Store }

func (s deaf) Create(_ context.Context, x *store.Session, max int) error {
	return s.Store.Create(context.Background(), x, max)
}

func (s deaf) Get(_ context.Context, id string, now time.Time) (*store.Session, error) {
	return s.Store.Get(context.Background(), id, now)
}

// foldCase compares subjects case-insensitively, as a MySQL column with a
// _ci collation would.
type foldCase struct{ *memstore.Store }

func (s foldCase) Create(ctx context.Context, x *store.Session, max int) error {
	c := *x
	c.Subject = strings.ToLower(x.Subject)
	err := s.Store.Create(ctx, &c, max)
	x.ID = c.ID
	return err
}

func (s foldCase) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	return s.Store.Get(ctx, id, now)
}

func (s foldCase) Revoke(ctx context.Context, subject, id string) error {
	return s.Store.Revoke(ctx, strings.ToLower(subject), id)
}

func (s foldCase) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	return s.Store.RevokeSubject(ctx, strings.ToLower(subject), keep)
}

func (s foldCase) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	return s.Store.List(ctx, strings.ToLower(subject), now)
}

// outage stands for a store whose backend is down: every call fails, or,
// with notFound, pretends the session is absent, or, with noStrikes,
// answers Throttle calls as if there were no strikes.
type outage struct{ notFound, noStrikes bool }

var errDown = errors.New("outage: connection refused")

func (o outage) err() error {
	if o.notFound {
		return store.ErrNotFound
	}
	return errDown
}

func (o outage) Create(context.Context, *store.Session, int) error { return o.err() }
func (o outage) Get(context.Context, string, time.Time) (*store.Session, error) {
	return nil, o.err()
}
func (o outage) Touch(context.Context, string, time.Time, time.Duration, time.Duration) error {
	return o.err()
}
func (o outage) Freshen(context.Context, string, time.Time, time.Time) error     { return o.err() }
func (o outage) Rotate(context.Context, string, store.Rotation, time.Time) error { return o.err() }
func (o outage) Revoke(context.Context, string, string) error                    { return o.err() }
func (o outage) RevokeSubject(context.Context, string, string) (int, error)      { return 0, o.err() }
func (o outage) List(context.Context, string, time.Time) ([]store.Session, error) {
	return nil, o.err()
}

func (o outage) strikesErr() error {
	if o.noStrikes {
		return nil
	}
	return o.err()
}

func (o outage) AddStrike(context.Context, string, time.Time, time.Duration) (store.Strikes, error) {
	return store.Strikes{}, o.strikesErr()
}

func (o outage) Strikes(_ context.Context, keys []string, _ time.Time) ([]store.Strikes, error) {
	if o.noStrikes {
		return make([]store.Strikes, len(keys)), nil
	}
	return nil, o.err()
}

func (o outage) ClearStrikes(context.Context, []string) error { return o.strikesErr() }

// touchRewrites touches as a key-value store without scripts might: read
// the session, then write all of it back. A revocation or rotation in
// between is undone.
type touchRewrites struct{ *ListStore }

func (s *touchRewrites) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	x, err := s.Get(ctx, id, now)
	if err != nil {
		return err
	}
	if now.Sub(x.LastUsedAt) < every {
		return nil
	}
	x.LastUsedAt, x.IdleUntil = now, now.Add(idle)
	time.Sleep(20 * time.Microsecond)
	s.mu.Lock()
	s.sessions[id] = *x
	s.mu.Unlock()
	return nil
}

// rotateRewrites rotates as a key-value store without scripts might: read
// the session, compare the hash, then write all of it back. A revocation
// in between is undone, and two refreshes of one token can both win.
type rotateRewrites struct{ *ListStore }

func (s *rotateRewrites) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	x, err := s.Get(ctx, id, now)
	if err != nil {
		return err
	}
	if !bytes.Equal(x.RefreshHash, r.Old) {
		return store.ErrConflict
	}
	x.Spent = append([][]byte{bytes.Clone(r.Old)}, x.Spent...)[:min(len(x.Spent)+1, max(r.KeepSpent, 0))]
	x.RefreshHash, x.SecretHash = bytes.Clone(r.RefreshHash), bytes.Clone(r.SecretHash)
	x.AccessExpiresAt, x.IdleUntil, x.FreshUntil = r.AccessExpiresAt, r.IdleUntil, r.FreshUntil
	x.LastUsedAt, x.RotatedAt = now, now
	time.Sleep(20 * time.Microsecond)
	s.mu.Lock()
	s.sessions[id] = *x
	s.mu.Unlock()
	return nil
}

// evictsLRU evicts the sessions used least recently instead of the oldest.
type evictsLRU struct{ *ListStore }

func (s *evictsLRU) Create(ctx context.Context, x *store.Session, max int) error {
	if err := s.ListStore.Create(ctx, x, 0); err != nil || max <= 0 {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var others []store.Session
	for _, o := range s.sessions {
		if o.Subject == x.Subject && o.ID != x.ID && o.Live(x.CreatedAt) {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b store.Session) int { return b.LastUsedAt.Compare(a.LastUsedAt) })
	for _, o := range others[min(len(others), max-1):] {
		delete(s.sessions, o.ID)
	}
	return nil
}

// dropsIdleTimeout has no column for a login's own idle timeout.
type dropsIdleTimeout struct{ *memstore.Store }

func (s dropsIdleTimeout) Create(ctx context.Context, x *store.Session, max int) error {
	c := *x
	c.IdleTimeout = 0
	err := s.Store.Create(ctx, &c, max)
	x.ID = c.ID
	return err
}

// emptyActor reads the empty actor columns of the subject's own login as
// an empty Actor instead of none.
type emptyActor struct{ *memstore.Store }

func (s emptyActor) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	x, err := s.Store.Get(ctx, id, now)
	if x != nil && x.Actor == nil {
		x.Actor = &store.Actor{}
	}
	return x, err
}

func (s emptyActor) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	l, err := s.Store.List(ctx, subject, now)
	for i := range l {
		if l[i].Actor == nil {
			l[i].Actor = &store.Actor{}
		}
	}
	return l, err
}

// idleTimeoutReplaces slides IdleUntil by the session's IdleTimeout when
// it has one, even past the idle the Touch passes: it replaces the idle
// timeout instead of bounding it.
type idleTimeoutReplaces struct{ *memstore.Store }

func (s idleTimeoutReplaces) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	if x, err := s.Get(ctx, id, now); err == nil && x.IdleTimeout > 0 {
		idle = x.IdleTimeout
	}
	return s.Store.Touch(ctx, id, now, idle, every)
}

// rotateResets rewrites the session from the Rotation and the fields it
// knew before per-login lifetimes and delegation: IdleTimeout and Actor
// are lost.
type rotateResets struct{ *ListStore }

func (s *rotateResets) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if err := s.ListStore.Rotate(ctx, id, r, now); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.sessions[id]
	x.IdleTimeout, x.Actor = 0, nil
	s.sessions[id] = x
	return nil
}

// freshenTouches counts a step-up as a use of the session.
type freshenTouches struct{ *memstore.Store }

func (s freshenTouches) Freshen(ctx context.Context, id string, until, now time.Time) error {
	if err := s.Store.Touch(ctx, id, now, time.Hour, 0); err != nil {
		return err
	}
	return s.Store.Freshen(ctx, id, until, now)
}

// freshenBlind updates without checking that a session was there, as an
// UPDATE whose row count goes unread.
type freshenBlind struct{ *memstore.Store }

func (s freshenBlind) Freshen(ctx context.Context, id string, until, now time.Time) error {
	if err := s.Store.Freshen(ctx, id, until, now); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// freshenRewrites freshens as a key-value store without scripts might:
// read the session, then write all of it back.
type freshenRewrites struct{ *ListStore }

func (s *freshenRewrites) Freshen(ctx context.Context, id string, until, now time.Time) error {
	x, err := s.Get(ctx, id, now)
	if err != nil {
		return err
	}
	x.FreshUntil = until
	time.Sleep(20 * time.Microsecond)
	s.mu.Lock()
	s.sessions[id] = *x
	s.mu.Unlock()
	return nil
}

// strikeBefore returns the count it read, not the one it wrote.
type strikeBefore struct{ *ListStore }

func (s *strikeBefore) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	r, err := s.ListStore.AddStrike(ctx, key, now, ttl)
	r.Count--
	return r, err
}

// strikesNeverRestart grows a record whether or not it has expired: only
// reads hide expired records.
type strikesNeverRestart struct{ *ListStore }

func (s *strikesNeverRestart) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if err := keys.CheckStrikeKeys(key); err != nil {
		return store.Strikes{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.strikes[key]
	r.Count++
	r.Last = later(r.Last, now)
	r.until = r.Last.Add(ttl)
	s.strikes[key] = r
	return r.Strikes, nil
}

// lastFollowsNow sets Last to each strike's now, even an earlier one.
type lastFollowsNow struct{ *ListStore }

func (s *lastFollowsNow) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if _, err := s.ListStore.AddStrike(ctx, key, now, ttl); err != nil {
		return store.Strikes{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.strikes[key]
	r.Last, r.until = now, now.Add(ttl)
	s.strikes[key] = r
	return r.Strikes, nil
}

// strikesFound answers with the records it found, in key order, as a
// query on "key IN (...)" would.
type strikesFound struct{ *ListStore }

func (s *strikesFound) Strikes(ctx context.Context, ks []string, now time.Time) ([]store.Strikes, error) {
	all, err := s.ListStore.Strikes(ctx, slices.Sorted(slices.Values(ks)), now)
	return slices.DeleteFunc(all, func(r store.Strikes) bool { return r.Count == 0 }), err
}

// clearsFirst deletes the first key's record alone.
type clearsFirst struct{ *ListStore }

func (s *clearsFirst) ClearStrikes(ctx context.Context, ks []string) error {
	return s.ListStore.ClearStrikes(ctx, ks[:min(len(ks), 1)])
}

// foldKeys compares keys case-insensitively, as a MySQL column with a _ci
// collation would.
type foldKeys struct{ *ListStore }

// mapKeys returns f of each of ks.
func mapKeys(ks []string, f func(string) string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = f(k)
	}
	return out
}

func (s *foldKeys) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	return s.ListStore.AddStrike(ctx, strings.ToLower(key), now, ttl)
}

func (s *foldKeys) Strikes(ctx context.Context, ks []string, now time.Time) ([]store.Strikes, error) {
	return s.ListStore.Strikes(ctx, mapKeys(ks, strings.ToLower), now)
}

func (s *foldKeys) ClearStrikes(ctx context.Context, ks []string) error {
	return s.ListStore.ClearStrikes(ctx, mapKeys(ks, strings.ToLower))
}

// racyStrike reads the record, then writes it back one higher: strikes
// made in between are lost.
type racyStrike struct{ *ListStore }

func (s *racyStrike) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	l, err := s.ListStore.Strikes(ctx, []string{key}, now)
	if err != nil {
		return store.Strikes{}, err
	}
	r := l[0]
	r.Count++
	r.Last = later(r.Last, now)
	time.Sleep(20 * time.Microsecond)
	s.mu.Lock()
	s.strikes[key] = strikeRecord{r, r.Last.Add(ttl)}
	s.mu.Unlock()
	return r, nil
}

// coerceKeys makes any key fit instead of refusing it: cut to the longest
// allowed, other bytes replaced, as a column that truncates would.
type coerceKeys struct{ *ListStore }

func coerce(k string) string {
	if k == "" {
		return "(empty)"
	}
	k = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, k)
	return k[:min(len(k), store.MaxStrikeKeyLen)]
}

func (s *coerceKeys) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	return s.ListStore.AddStrike(ctx, coerce(key), now, ttl)
}

func (s *coerceKeys) Strikes(ctx context.Context, ks []string, now time.Time) ([]store.Strikes, error) {
	return s.ListStore.Strikes(ctx, mapKeys(ks, coerce), now)
}

func (s *coerceKeys) ClearStrikes(ctx context.Context, ks []string) error {
	return s.ListStore.ClearStrikes(ctx, mapKeys(ks, coerce))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlyConflict claims a rotation, then writes it a little later, and
// tells a rotation that finds a claim in flight that it lost at once,
// before the winner's change can be read: as a claim-then-update store
// that does not wait for the winner would.
type earlyConflict struct {
	store.Store
	inFlight atomic.Int32
}

func (e *earlyConflict) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if e.inFlight.Add(1) > 1 {
		e.inFlight.Add(-1)
		return store.ErrConflict
	}
	defer e.inFlight.Add(-1)
	time.Sleep(5 * time.Millisecond) // the claim is made; the update follows
	return e.Store.Rotate(ctx, id, r, now)
}
