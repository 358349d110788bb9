package latch_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/storetest"
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
	store  *storetest.Probe
	writes *writeLog
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
	e := &env{clock: newClock(), writes: &writeLog{}, logs: &leakLog{}, events: &[]latch.Event{}}
	e.store = &storetest.Probe{Store: memstore.New(), Err: errDown, OnWrite: e.writes.record}
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

// errDown is what env's store fails with while it is down.
var errDown = &downError{}

type downError struct{}

func (*downError) Error() string { return "test: backend down" }

// writeLog keeps, as JSON, every write the store was asked for, for the
// no-plaintext check.
type writeLog struct {
	mu      sync.Mutex
	written [][]byte
}

func (l *writeLog) record(method string, args ...any) {
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

// all returns every recorded write, one a line.
func (l *writeLog) all() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Join(l.written, []byte{'\n'})
}

func fmtSprint(v any) string  { return fmt.Sprint(v) }
func fmtSprintV(v any) string { return fmt.Sprintf("%+v %#v", v, v) }
func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }
