package adaptertest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store/memstore"
)

// secret is the HMAC key of the jwt and hybrid modes: 32 fixed bytes,
// base64, so every fixture signs alike.
const secret = "PJEO0leoaxTwLZnDTnW2COFaM4/HAm2+GYT6QCfVbpM="

// epoch is where every fixture's clock starts, so cookie expiries are the
// same in every adapter's answers.
var epoch = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// User is the application user the fixtures' user loader returns.
type User struct {
	ID    string
	Name  string
	Admin bool
}

// accounts are the fixture's users, by ID.
var accounts = []User{{ID: "1", Name: "test"}, {ID: "2", Name: "batman", Admin: true}, {ID: "3", Name: "robin"}}

// accountNamed returns a copy of the account named name, or nil.
func accountNamed(name string) *User {
	for _, u := range accounts {
		if u.Name == name {
			return &u
		}
	}
	return nil
}

// Fixture is one Auth in one mode with its clock, store and users, and
// tokens issued before the request under test.
type Fixture struct {
	Auth  *latch.Auth     // the core
	Web   *latchhttp.Auth // its HTTP layer, which every adapter mounts
	Mode  latch.Mode
	Store *storetest.Probe // can be taken down: see ErrBackendDown

	// Test, Admin and Ghost are fresh logins of users 1 (test), 2
	// (batman, an administrator) and 3 (robin); Refreshed comes from
	// spending a refresh token of user 1, so it is not fresh.
	Test, Admin, Ghost, Refreshed *latch.Tokens
	// Issued are tokens a setup got through the routes (see Serve).
	Issued *latch.Tokens

	handler    http.Handler // the routes as the adapter under test mounts them
	mu         sync.Mutex
	now        time.Time
	users      map[string]*User
	loaderDown bool
	logs       bytes.Buffer
}

// NewFixture returns a fixture in mode. The Auth reads tokens from the
// Authorization header, then the cookies (with the default __Host- names),
// answers an expired token with the walkthrough's custom body (and
// latch.ErrInvalidSubject and latch.ErrInvalidClaims, which only the
// table's own checks return, with LateHeader and Silent), and loads users
// with a loader that can return nil or fail.
func NewFixture(t testing.TB, mode latch.Mode) *Fixture {
	t.Helper()
	f := &Fixture{
		Mode:  mode,
		Store: &storetest.Probe{Store: memstore.New(), Err: ErrBackendDown},
		now:   epoch,
		users: map[string]*User{},
	}
	for _, u := range accounts {
		f.users[u.ID] = &u
	}
	cfg := latch.Config{Mode: mode, SessionKey: authtest.SessionKey}
	cfg.JWT.Secret = secret
	a, err := latch.New(context.Background(), cfg,
		latch.WithStore(f.Store),
		latch.WithClock(f.Now),
		latch.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{f}, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		latch.WithIdentity(func(u *User) string { return u.ID }),
		latch.WithClaimsLoader(func(_ context.Context, u *User) (map[string]any, error) {
			return map[string]any{"is_administrator": u.Admin}, nil
		}),
		latch.WithUserLoader(f.loadUser),
	)
	if err != nil {
		t.Fatalf("latch.New(%s): %v", mode, err)
	}
	f.Auth = a
	f.Web, err = latchhttp.New(a, latchhttp.Config{Locations: []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie}},
		latchhttp.WithResponder(latch.ErrTokenExpired, Expired),
		latchhttp.WithResponder(latch.ErrInvalidSubject, LateHeader),
		latchhttp.WithResponder(latch.ErrInvalidClaims, Silent),
	)
	if err != nil {
		t.Fatalf("latchhttp.New(%s): %v", mode, err)
	}
	ctx := context.Background()
	login := func(id string) *latch.Tokens {
		tk, err := a.Login(ctx, f.users[id], latch.LoginOptions{Device: device})
		if err != nil {
			t.Fatalf("Login(%s): %v", id, err)
		}
		return tk
	}
	f.Test, f.Admin, f.Ghost = login("1"), login("2"), login("3")
	if f.Refreshed, err = a.Refresh(ctx, login("1").RefreshToken); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	t.Cleanup(func() { f.checkLogs(t) })
	return f
}

// Serve runs r through the routes as the adapter under test mounts them,
// for a setup that goes through them before the request under test, and
// returns the answer.
func (f *Fixture) Serve(r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	return rec.Result()
}

// Now is the fixture's clock.
func (f *Fixture) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

// Advance moves the clock.
func (f *Fixture) Advance(d time.Duration) { f.mu.Lock(); defer f.mu.Unlock(); f.now = f.now.Add(d) }

// RemoveUser deletes a user, as if the account were deleted while its
// tokens are still out there: the loader returns nil for it.
func (f *Fixture) RemoveUser(id string) { f.mu.Lock(); defer f.mu.Unlock(); delete(f.users, id) }

// BreakLoader makes the user loader fail as a database that went away.
func (f *Fixture) BreakLoader() { f.mu.Lock(); defer f.mu.Unlock(); f.loaderDown = true }

// Logout ends the session of tokens.
func (f *Fixture) Logout(t testing.TB, tk *latch.Tokens) {
	t.Helper()
	p, err := f.Auth.Authenticate(context.Background(), tk.AccessToken, latch.Requirement{})
	if err == nil {
		err = f.Auth.Logout(context.Background(), p)
	}
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
}

var (
	// ErrBackendDown is what a fixture's store fails with while it is down.
	ErrBackendDown = errors.New("adaptertest: backend down")
	// errLoaderDown is the user loader's failure: neither nil nor a latch
	// error, so latch answers 503.
	errLoaderDown = errors.New("adaptertest: user database down")
)

func (f *Fixture) loadUser(_ context.Context, p *latch.Principal) (*User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaderDown {
		return nil, errLoaderDown
	}
	return f.users[p.Subject], nil
}

// Cookies returns the cookies a browser holds after SetCookies(tk), and
// the CSRF header values that go with them: access, then refresh.
func (f *Fixture) Cookies(tk *latch.Tokens) (cookies []*http.Cookie, csrfAccess, csrfRefresh string) {
	rec := httptest.NewRecorder()
	f.Web.SetCookies(rec, tk)
	for _, c := range rec.Result().Cookies() {
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return cookies, latchhttp.CSRFToken(tk.AccessToken), latchhttp.CSRFToken(tk.RefreshToken)
}

// tokens returns every token the fixture issued.
func (f *Fixture) tokens() []string {
	var out []string
	for _, tk := range []*latch.Tokens{f.Test, f.Admin, f.Ghost, f.Refreshed, f.Issued} {
		if tk == nil {
			continue
		}
		for _, tok := range []string{tk.AccessToken, tk.RefreshToken} {
			if tok != "" {
				out = append(out, tok)
			}
		}
	}
	return out
}

// checkLogs fails t if latch logged a token.
func (f *Fixture) checkLogs(t testing.TB) {
	f.mu.Lock()
	logs := f.logs.String()
	f.mu.Unlock()
	for _, tok := range f.tokens() {
		if strings.Contains(logs, tok) {
			t.Errorf("%s: the log contains an issued token", f.Mode)
			return
		}
	}
}

type lockedWriter struct{ f *Fixture }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.logs.Write(p)
}

// Expired answers an expired token as the walkthrough's
// expired_token_loader does; latch has set WWW-Authenticate already.
func Expired(w http.ResponseWriter, _ *http.Request, _ error) {
	latchhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"code": "dave", "err": "I can't let you do that"})
}

// LateHeader answers 400 and sets a header after writing the status:
// net/http sends the headers as they were at WriteHeader, so X-Late must
// not reach the client through any adapter.
func LateHeader(w http.ResponseWriter, _ *http.Request, _ error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	w.Header().Set("X-Late", "too late")
	w.Write([]byte(`{"msg":"late"}` + "\n"))
}

// Silent is a responder that writes nothing: net/http then answers 200
// with the headers latch set, and an empty body.
func Silent(http.ResponseWriter, *http.Request, error) {}
