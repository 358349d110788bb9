package latch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

var modes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// testSecret is a random 32-byte HMAC key, base64.
var testSecret = base64.StdEncoding.EncodeToString([]byte{
	0x3c, 0x91, 0x0e, 0xd2, 0x57, 0xa8, 0x6b, 0x14, 0xf0, 0x2d, 0x99, 0xc3, 0x4e, 0x75, 0xb6, 0x08,
	0xe1, 0x5a, 0x33, 0x8f, 0xc7, 0x02, 0x6d, 0xbe, 0x19, 0x84, 0xfa, 0x40, 0x27, 0xd5, 0x6e, 0x93,
})

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one Auth under test with its clock, store and captured logs.
type env struct {
	auth   *latch.Auth
	clock  *clock
	store  *recordingStore
	logs   *leakLog // scanned for every issued token as it is written
	events *[]latch.Event
}

type user struct {
	ID       string
	Name     string
	Admin    bool
	Disabled bool
}

var users = map[string]*user{
	"1": {ID: "1", Name: "test"},
	"2": {ID: "2", Name: "batman", Admin: true},
	"3": {ID: "3", Name: "ghost", Disabled: true},
}

func newEnv(t testing.TB, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) *env {
	t.Helper()
	cfg := latch.Config{Mode: mode}
	cfg.JWT.Secret = latch.Secret(testSecret)
	if edit != nil {
		edit(&cfg)
	}
	e := &env{clock: newClock(), store: &recordingStore{Store: memstore.New()}, logs: &leakLog{}, events: &[]latch.Event{}}
	t.Cleanup(func() { e.logs.check(t) })
	var mu sync.Mutex
	base := []latch.Option{
		latch.WithStore(e.store),
		latch.WithClock(e.clock.Now),
		latch.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		latch.WithEventHook(func(_ context.Context, ev latch.Event) {
			e.logs.observe(ev.Err)
			mu.Lock()
			*e.events = append(*e.events, ev)
			mu.Unlock()
		}),
		latch.WithIdentity(func(u *user) string { return u.ID }),
		latch.WithClaimsLoader(func(_ context.Context, u *user) (map[string]any, error) {
			return map[string]any{"foo": "bar", "upcase_name": strings.ToUpper(u.Name), "is_administrator": u.Admin}, nil
		}),
		latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
			u := users[p.Subject]
			if u == nil || u.Disabled {
				return nil, nil
			}
			return u, nil
		}),
	}
	a, err := latch.New(cfg, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New(%s): %v", mode, err)
	}
	e.auth = a
	return e
}

func (e *env) login(t testing.TB, u *user, label string) *latch.Tokens {
	t.Helper()
	tok, err := e.auth.Login(context.Background(), u, latch.LoginOptions{Device: latch.Device{Label: label}})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return tok
}

// handler is a protected test app: every route answers with what latch put
// in the context.
func (e *env) handler() http.Handler {
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := latch.FromContext(r.Context())
		out := map[string]any{"anonymous": !ok}
		if ok {
			u, _ := latch.UserFrom[*user](r.Context())
			out["sub"], out["sid"], out["fresh"], out["type"] = p.Subject, p.SessionID, p.Fresh, string(p.Type)
			out["foo"], out["user"] = p.Claims["foo"], u.Name
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	admin := func(r *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	}
	mux := http.NewServeMux()
	mux.Handle("/protected", e.auth.Required(who))
	mux.Handle("/optional", e.auth.Optional(who))
	mux.Handle("/fresh", e.auth.FreshRequired(who))
	mux.Handle("/admin", e.auth.Require(admin)(who))
	mux.Handle("/refresh-only", e.auth.RefreshRequired(who))
	mux.Handle("POST /refresh", e.auth.RefreshHandler())
	return mux
}

// do serves one request and returns the recorder.
func do(h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func bodyMap(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body.String(), err)
	}
	return m
}

// recordingStore wraps a Store, keeps every value written to it for the
// no-plaintext check, counts writes, and can be made to fail.
type recordingStore struct {
	store.Store
	mu      sync.Mutex
	written [][]byte
	writes  int
	gets    int
	down    bool
}

var errDown = &downError{}

type downError struct{}

func (*downError) Error() string { return "test: backend down" }

func (s *recordingStore) record(v any) {
	b, _ := json.Marshal(v)
	s.mu.Lock()
	s.written = append(s.written, b)
	s.writes++
	s.mu.Unlock()
}

func (s *recordingStore) setDown(d bool) { s.mu.Lock(); s.down = d; s.mu.Unlock() }
func (s *recordingStore) isDown() bool   { s.mu.Lock(); defer s.mu.Unlock(); return s.down }
func (s *recordingStore) writeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *recordingStore) Create(ctx context.Context, ss *store.Session, max int) error {
	if s.isDown() {
		return errDown
	}
	if err := s.Store.Create(ctx, ss, max); err != nil {
		return err
	}
	s.record(ss)
	return nil
}
func (s *recordingStore) getCount() int { s.mu.Lock(); defer s.mu.Unlock(); return s.gets }

func (s *recordingStore) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	if s.isDown() {
		return nil, errDown
	}
	return s.Store.Get(ctx, id, now)
}
func (s *recordingStore) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	if s.isDown() {
		return errDown
	}
	s.record([]any{"touch", id, now})
	return s.Store.Touch(ctx, id, now, idle, every)
}
func (s *recordingStore) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if s.isDown() {
		return errDown
	}
	s.record(r)
	return s.Store.Rotate(ctx, id, r, now)
}
func (s *recordingStore) Revoke(ctx context.Context, subject, id string) error {
	if s.isDown() {
		return errDown
	}
	s.record([]any{"revoke", subject, id})
	return s.Store.Revoke(ctx, subject, id)
}
func (s *recordingStore) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if s.isDown() {
		return 0, errDown
	}
	s.record([]any{"revoke_subject", subject, keep})
	return s.Store.RevokeSubject(ctx, subject, keep)
}
func (s *recordingStore) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if s.isDown() {
		return nil, errDown
	}
	return s.Store.List(ctx, subject, now)
}

// slowStore delays Get until ctx is done or delay passes, like a stalled
// backend that still honours its context.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s *slowStore) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if s.delay > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.delay):
		}
	}
	return s.Store.Get(ctx, id, now)
}

func fmtSprint(v any) string  { return fmt.Sprint(v) }
func fmtSprintV(v any) string { return fmt.Sprintf("%+v %#v", v, v) }
func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }
