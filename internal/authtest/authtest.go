// Package authtest builds the latch.Auth that the tests of the core and of
// latchhttp run against: the walkthrough's users and loaders, a settable
// clock, a store that counts its calls and can be taken down, and a log
// and event hook scanned for leaked secrets (package leaktest).
package authtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/leaktest"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// Modes are the three modes, for tests that run in each.
var Modes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// Secret is the JWT signing key of every Env, base64: 32 random bytes.
const Secret = "PJEO0leoaxTwLZnDTnW2COFaM4/HAm2+GYT6QCfVbpM="

// SessionKey is the session key of every Env (Config.SessionKey), base64:
// 32 random bytes.
const SessionKey = "aiH7SXmqlL+dWqPUqum9sUmTOcDhSlsT8u91Eh1Uzcs="

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at the current time.
func NewClock() *Clock { return &Clock{t: time.Now().Truncate(time.Millisecond)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// User is the walkthrough's user.
type User struct {
	ID       string
	Name     string
	Admin    bool
	Disabled bool
}

// Users are the walkthrough's users: 1 is test, 2 is batman (an
// administrator), 3 is ghost, whom the user loader does not find.
var Users = map[string]*User{
	"1": {ID: "1", Name: "test"},
	"2": {ID: "2", Name: "batman", Admin: true},
	"3": {ID: "3", Name: "ghost", Disabled: true},
}

// Env is one Auth under test with its clock, store and captured logs and
// events.
type Env struct {
	Auth   *latch.Auth
	Clock  *Clock
	Store  *storetest.Probe // ErrDown while down
	Writes *WriteLog        // every write the store was asked for
	Logs   *leaktest.Log    // scanned for every issued token as it is written

	mu     sync.Mutex
	events []latch.Event
}

// ErrDown is what an Env's store fails with while it is down.
var ErrDown = &downError{}

type downError struct{}

func (*downError) Error() string { return "test: backend down" }

// New returns an Env in mode with the walkthrough's identity, claims
// loader (foo, upcase_name, is_administrator) and user loader (nil for a
// disabled user). edit, if not nil, changes the Config; opts come after
// the Env's own options, so they replace them. The log and the errors of
// events are checked for leaks when t ends.
func New(t testing.TB, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) *Env {
	t.Helper()
	cfg := latch.Config{Mode: mode, SessionKey: SessionKey}
	cfg.JWT.Secret = Secret
	if edit != nil {
		edit(&cfg)
	}
	e := &Env{Clock: NewClock(), Writes: &WriteLog{}, Logs: &leaktest.Log{}}
	e.Store = &storetest.Probe{Store: memstore.New(), Err: ErrDown, OnWrite: e.Writes.Record}
	t.Cleanup(func() { e.Logs.Check(t) })
	base := []latch.Option{
		latch.WithStore(e.Store),
		latch.WithClock(e.Clock.Now),
		latch.WithLogger(slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		latch.WithEventHook(func(_ context.Context, ev latch.Event) {
			e.Logs.Observe(ev.Err)
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}),
		latch.WithIdentity(func(u *User) string { return u.ID }),
		latch.WithClaimsLoader(func(_ context.Context, u *User) (map[string]any, error) {
			return map[string]any{"foo": "bar", "upcase_name": strings.ToUpper(u.Name), "is_administrator": u.Admin}, nil
		}),
		latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*User, error) {
			u := Users[p.Subject]
			if u == nil || u.Disabled {
				return nil, nil
			}
			return u, nil
		}),
	}
	a, err := latch.New(context.Background(), cfg, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New(%s): %v", mode, err)
	}
	e.Auth = a
	t.Cleanup(func() { a.Close() }) // stops a session cache; the store is the test's
	return e
}

// Login logs u in on a device labelled label.
func (e *Env) Login(t testing.TB, u *User, label string) *latch.Tokens {
	t.Helper()
	tok, err := e.Auth.Login(context.Background(), u, latch.LoginOptions{Device: latch.Device{Label: label}})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return tok
}

// Events returns the events so far.
func (e *Env) Events() []latch.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// ClearEvents forgets the events so far.
func (e *Env) ClearEvents() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = nil
}

// HasEvent reports whether an event of kind k happened.
func (e *Env) HasEvent(k latch.EventKind) bool {
	return slices.ContainsFunc(e.Events(), func(ev latch.Event) bool { return ev.Kind == k })
}

// WriteLog keeps, as JSON, every write a store was asked for, for the
// no-plaintext check.
type WriteLog struct {
	mu      sync.Mutex
	written [][]byte
}

// Record is a storetest.Probe's OnWrite.
func (l *WriteLog) Record(method string, args ...any) {
	args = slices.Clone(args)
	for i, a := range args {
		if s, ok := a.(*store.Session); ok {
			// store.Session keeps its hashes out of JSON (json:"-"); the
			// check must see them.
			args[i] = struct {
				*store.Session
				SecretHash, RefreshHash []byte
				Spent                   [][]byte
			}{s, s.SecretHash, s.RefreshHash, s.Spent}
		}
	}
	b, _ := json.Marshal(append([]any{method}, args...))
	l.mu.Lock()
	l.written = append(l.written, b)
	l.mu.Unlock()
}

// All returns every recorded write, one a line.
func (l *WriteLog) All() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Join(l.written, []byte{'\n'})
}

// Key returns the signing key Secret encodes, for leaktest.Main.
func Key() []byte {
	k, err := base64.StdEncoding.DecodeString(Secret)
	if err != nil {
		panic(err)
	}
	return k
}

// Keys returns the keys every Env holds, Secret's and SessionKey's, for
// leaktest.Main to look for in logs and errors.
func Keys() [][]byte {
	k, err := base64.StdEncoding.DecodeString(SessionKey)
	if err != nil {
		panic(err)
	}
	return [][]byte{Key(), k}
}

// NewBench is New without what tests add to every call: no log, no event
// recording, no index of issued tokens for the leak scan, and the memory
// store itself rather than the counting Probe (which, not being
// store.Bounded, would cost every call a goroutine). opts come last.
func NewBench(b *testing.B, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) *Env {
	b.Helper()
	leaktest.Off(b)
	base := []latch.Option{latch.WithLogger(slog.New(slog.DiscardHandler)),
		latch.WithEventHook(func(context.Context, latch.Event) {}), latch.WithStore(memstore.New())}
	return New(b, mode, edit, append(base, opts...)...)
}

// BenchCase is one configuration that the core's and latchhttp's
// benchmarks measure alike, under the same name.
type BenchCase struct {
	Name string
	Mode latch.Mode
	Edit func(*latch.Config)
	Opts []latch.Option
}

// BenchCases are the configurations every benchmark of authentication
// measures: each mode, jwt with a session check, and opaque on a store
// that is not store.Bounded, for what the goroutine guarding each call of
// such a store costs; and opaque and jwt with a session check served by
// the session cache (Config.SessionCache) on the memory store.
func BenchCases() []BenchCase {
	check := func(c *latch.Config) { c.SessionCheck = true }
	cached := func(c *latch.Config) { c.SessionCheck, c.SessionCache = true, latch.Duration(30*time.Second) }
	unbounded := latch.WithStore(struct{ store.Store }{memstore.New()})
	return []BenchCase{
		{Name: "opaque", Mode: latch.ModeOpaque},
		{Name: "jwt", Mode: latch.ModeJWT},
		{Name: "hybrid", Mode: latch.ModeHybrid},
		{Name: "jwt+session_check", Mode: latch.ModeJWT, Edit: check},
		{Name: "opaque+guarded", Mode: latch.ModeOpaque, Opts: []latch.Option{unbounded}},
		{Name: "opaque+cache", Mode: latch.ModeOpaque, Edit: cached},
		{Name: "jwt+session_check+cache", Mode: latch.ModeJWT, Edit: cached},
	}
}
