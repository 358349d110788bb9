package latch_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// watched is a memstore whose reads are counted and whose reports a test
// can hold back, break, or watch go by: the channel of a store.Watcher
// under a test's control.
type watched struct {
	*memstore.Store
	gets atomic.Int64
	// afterGet, when set, runs after a Get read the session and before it
	// returns.
	afterGet atomic.Pointer[func(id string)]

	mu      sync.Mutex
	mute    bool          // drop every report, beats included
	lose    bool          // drop the reports of changes, not the beats
	broken  chan struct{} // closed: every Watch returns an error
	onShown func(c store.Change)
}

func newWatched() *watched {
	return &watched{Store: memstore.New(), broken: make(chan struct{})}
}

func (w *watched) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	w.gets.Add(1)
	s, err := w.Store.Get(ctx, id, now)
	if f := w.afterGet.Load(); f != nil {
		(*f)(id)
	}
	return s, err
}

func (w *watched) Watch(ctx context.Context, fn func(store.Change)) error {
	w.mu.Lock()
	broken := w.broken
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-broken:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := w.Store.Watch(ctx, func(c store.Change) {
		w.mu.Lock()
		mute, lose, shown := w.mute, w.lose, w.onShown
		w.mu.Unlock()
		if mute && c.Kind != store.ChangeReady || lose && (c.Kind == store.ChangeSession || c.Kind == store.ChangeSubject) {
			return
		}
		fn(c)
		if shown != nil {
			shown(c)
		}
	})
	select {
	case <-broken:
		return errors.New("test: subscription broken")
	default:
	}
	return err
}

// setMute holds back every report from now on, or lets them through
// again.
func (w *watched) setMute(m bool) { w.mu.Lock(); w.mute = m; w.mu.Unlock() }

// breakWatch ends every Watch with an error; later Watches stand.
func (w *watched) breakWatch() {
	w.mu.Lock()
	close(w.broken)
	w.broken = make(chan struct{})
	w.mu.Unlock()
}

// cacheTrust is the SessionCache of the tests: the shortest allowed.
const cacheTrust = time.Second

// cachedEnv returns an Env in mode on w with the session cache on, and
// session checks in the JWT modes, once its cache trusts itself.
func cachedEnv(t *testing.T, mode latch.Mode, w *watched, edit func(*latch.Config), opts ...latch.Option) *env {
	t.Helper()
	e := newEnv(t, mode, func(c *latch.Config) {
		c.SessionCache = latch.Duration(cacheTrust)
		c.SessionCheck = mode != latch.ModeOpaque
		if edit != nil {
			edit(c)
		}
	}, append([]latch.Option{latch.WithStore(w)}, opts...)...)
	t.Cleanup(func() { e.Auth.Close() })
	waitFor(t, "the cache to trust itself", cacheTrust, func() bool { return latch.CacheTrusted(e.Auth) })
	return e
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

var cachedModes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// TestSessionCacheServes: with the cache trusted, checking a token again
// reads nothing from the store, and every request still gets its own
// copy of the claims.
func TestSessionCacheServes(t *testing.T) {
	for _, mode := range cachedModes {
		t.Run(string(mode), func(t *testing.T) {
			w := newWatched()
			e := cachedEnv(t, mode, w, nil)
			tok := e.Login(t, users["1"], "laptop").AccessToken
			p, err := e.Auth.Authenticate(bg, tok, access)
			if err != nil {
				t.Fatal(err)
			}
			p.Claims["foo"] = "changed by the application"
			before := w.gets.Load()
			for range 50 {
				p, err := e.Auth.Authenticate(bg, tok, access)
				if err != nil {
					t.Fatal(err)
				}
				if p.Claims["foo"] != "bar" || p.Device.Label != "laptop" && mode == latch.ModeOpaque {
					t.Fatalf("cached principal: claims %v, device %+v", p.Claims, p.Device)
				}
			}
			if n := w.gets.Load() - before; n != 0 {
				t.Errorf("50 checks of a cached session read the store %d times, want 0", n)
			}
		})
	}
}

// TestSessionCacheRefusesEndedSessions: every change that ends or alters
// a session is refused at once by the instance that made it and within
// 100 ms by another instance that had the session cached.
func TestSessionCacheRefusesEndedSessions(t *testing.T) {
	type change struct {
		name string
		// do changes the session of victim (whose tokens are given) on
		// instance a; check says whether b's answer for victim's access
		// token reflects it.
		do    func(t *testing.T, a *env, victim *latch.Tokens, p *latch.Principal)
		check func(p *latch.Principal, err error) bool
		modes []latch.Mode
	}
	revoked := func(_ *latch.Principal, err error) bool { return errors.Is(err, latch.ErrTokenRevoked) }
	changes := []change{
		{name: "logout", do: func(t *testing.T, a *env, _ *latch.Tokens, p *latch.Principal) {
			must(t, a.Auth.Logout(bg, p))
		}, check: revoked},
		{name: "logout-all", do: func(t *testing.T, a *env, _ *latch.Tokens, p *latch.Principal) {
			_, err := a.Auth.RevokeAll(bg, p.Subject)
			must(t, err)
		}, check: revoked},
		{name: "logout-others", do: func(t *testing.T, a *env, _ *latch.Tokens, p *latch.Principal) {
			other := a.Login(t, users["1"], "phone").AccessToken
			op, err := a.Auth.Authenticate(bg, other, access)
			must(t, err)
			_, err = a.Auth.LogoutOthers(bg, op)
			must(t, err)
		}, check: revoked},
		{name: "revoke-one", do: func(t *testing.T, a *env, _ *latch.Tokens, p *latch.Principal) {
			must(t, a.Auth.RevokeSession(bg, p.Subject, p.SessionID))
		}, check: revoked},
		{name: "reuse-detection", do: func(t *testing.T, a *env, v *latch.Tokens, _ *latch.Principal) {
			_, err := a.Auth.Refresh(bg, v.RefreshToken)
			must(t, err)
			a.Clock.Add(time.Minute) // past the reuse grace
			if _, err := a.Auth.Refresh(bg, v.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) && !errors.Is(err, latch.ErrInvalidToken) {
				t.Fatalf("replayed refresh token: %v", err)
			}
		}, check: revoked, modes: []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}},
		{name: "evicted-by-cap", do: func(t *testing.T, a *env, _ *latch.Tokens, _ *latch.Principal) {
			a.Login(t, users["1"], "phone")
			a.Login(t, users["1"], "tablet")
		}, check: revoked},
		{name: "refresh-retires-opaque-access", do: func(t *testing.T, a *env, v *latch.Tokens, _ *latch.Principal) {
			_, err := a.Auth.Refresh(bg, v.RefreshToken)
			must(t, err)
		}, check: revoked, modes: []latch.Mode{latch.ModeOpaque}},
		{name: "step-up", do: func(t *testing.T, a *env, _ *latch.Tokens, p *latch.Principal) {
			_, err := a.Auth.StepUp(bg, p)
			must(t, err)
		}, check: func(p *latch.Principal, err error) bool {
			// The access token presented is not fresh itself in the JWT
			// modes; in opaque mode the session's freshness is its own.
			return err == nil && p.Fresh
		}, modes: []latch.Mode{latch.ModeOpaque}},
	}
	for _, mode := range cachedModes {
		for _, c := range changes {
			if c.modes != nil && !containsMode(c.modes, mode) {
				continue
			}
			t.Run(string(mode)+"/"+c.name, func(t *testing.T) {
				w := newWatched()
				clock := authtest.NewClock()
				edit := func(cfg *latch.Config) { cfg.MaxSessions = 2 }
				a := cachedEnv(t, mode, w, edit, latch.WithClock(clock.Now))
				b := cachedEnv(t, mode, w, edit, latch.WithClock(clock.Now))
				a.Clock, b.Clock = clock, clock
				victim := a.Login(t, users["1"], "laptop")
				clock.Add(time.Second) // a login later is newer in every store
				p, err := a.Auth.Authenticate(bg, victim.AccessToken, access)
				must(t, err)
				if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); err != nil {
					t.Fatalf("b: %v", err)
				}
				reads := w.gets.Load()
				if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); err != nil || w.gets.Load() != reads {
					t.Fatalf("b did not serve the session from its cache: %v", err)
				}
				c.do(t, a, victim, p)
				if pa, err := a.Auth.Authenticate(bg, victim.AccessToken, access); !c.check(pa, err) {
					t.Errorf("the instance that made the change answers %v", err)
				}
				took := waitFor(t, "the other instance to see the change", 100*time.Millisecond, func() bool {
					return c.check(b.Auth.Authenticate(bg, victim.AccessToken, access))
				})
				t.Logf("the other instance saw it after %s", took)
			})
		}
	}
}

func containsMode(ms []latch.Mode, m latch.Mode) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSessionCacheExpiry: a cached session past its idle or absolute end,
// or an opaque access token past its expiry, is refused as without a
// cache.
func TestSessionCacheExpiry(t *testing.T) {
	for _, mode := range []latch.Mode{latch.ModeOpaque, latch.ModeHybrid} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWatched()
			e := cachedEnv(t, mode, w, func(c *latch.Config) {
				c.AccessTTL = latch.Duration(time.Hour)
				c.RefreshTTL = latch.Duration(2 * time.Hour)
				c.TouchInterval = latch.Duration(time.Hour)
			})
			tok := e.Login(t, users["1"], "laptop").AccessToken
			if _, err := e.Auth.Authenticate(bg, tok, access); err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(2*time.Hour + time.Second) // idle past RefreshTTL (and the access TTL)
			_, err := e.Auth.Authenticate(bg, tok, access)
			if !errors.Is(err, latch.ErrTokenRevoked) && !errors.Is(err, latch.ErrTokenExpired) {
				t.Fatalf("idle session from the cache: %v, want refused", err)
			}
		})
	}
}

// TestSessionCacheFillRace: a read that began before a revocation's
// report arrived, and returns after it, does not put the revoked session
// in the cache.
func TestSessionCacheFillRace(t *testing.T) {
	w := newWatched()
	a := cachedEnv(t, latch.ModeOpaque, w, nil)
	b := cachedEnv(t, latch.ModeOpaque, w, nil)
	victim := a.Login(t, users["1"], "laptop")
	p, err := a.Auth.Authenticate(bg, victim.AccessToken, access)
	must(t, err)

	read, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(id string) {
		if id == p.SessionID {
			once.Do(func() { close(read); <-release })
		}
	}
	w.afterGet.Store(&hook)
	reported := make(chan struct{})
	var reportOnce sync.Once
	w.mu.Lock()
	w.onShown = func(c store.Change) {
		if c.Kind == store.ChangeSession && c.ID == p.SessionID {
			reportOnce.Do(func() { close(reported) })
		}
	}
	w.mu.Unlock()

	raced := make(chan error, 1)
	go func() {
		// b misses and reads the live session, then stalls in the hook.
		_, err := b.Auth.Authenticate(bg, victim.AccessToken, access)
		raced <- err
	}()
	<-read
	must(t, a.Auth.Logout(bg, p))
	select {
	case <-reported: // the report reached both caches
	case <-time.After(5 * time.Second):
		t.Fatal("no report of the logout")
	}
	time.Sleep(10 * time.Millisecond) // let b's cache handle it too
	close(release)
	if err := <-raced; err != nil {
		t.Logf("the raced request: %v", err)
	}
	w.afterGet.Store(nil)
	if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Fatalf("after the race: %v, want ErrTokenRevoked: the stale read was cached", err)
	}
}

// TestSessionCacheChannelBreaks: when reports stop arriving the cache
// never answers stale: a broken subscription empties it at once, and
// reports that silently stop make it read the store again within
// SessionCache.
func TestSessionCacheChannelBreaks(t *testing.T) {
	setup := func(t *testing.T) (w *watched, a, b *env, victim *latch.Tokens, p *latch.Principal) {
		w = newWatched()
		a = cachedEnv(t, latch.ModeOpaque, w, nil)
		b = cachedEnv(t, latch.ModeOpaque, w, nil)
		victim = a.Login(t, users["1"], "laptop")
		p, err := a.Auth.Authenticate(bg, victim.AccessToken, access)
		must(t, err)
		if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); err != nil {
			t.Fatal(err)
		}
		return w, a, b, victim, p
	}
	t.Run("broken", func(t *testing.T) {
		w, a, b, victim, p := setup(t)
		w.setMute(true) // the logout's report is lost with the subscription
		must(t, a.Auth.Logout(bg, p))
		w.breakWatch()
		waitFor(t, "b to stop trusting its cache", time.Second, func() bool { return !latch.CacheTrusted(b.Auth) })
		if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
			t.Fatalf("after the subscription broke: %v, want ErrTokenRevoked from a store read", err)
		}
		w.setMute(false)
		waitFor(t, "b to trust its cache again after resubscribing", 3*cacheTrust, func() bool { return latch.CacheTrusted(b.Auth) })
	})
	t.Run("silent", func(t *testing.T) {
		w, a, b, victim, p := setup(t)
		w.setMute(true) // reports and beats vanish; the subscription stands
		must(t, a.Auth.Logout(bg, p))
		refusedWithinTrust(t, b, victim.AccessToken, time.Now(), "without reports")
		if latch.CacheTrusted(b.Auth) {
			t.Error("b still trusts its cache with no beat back")
		}
	})
}

// TestSessionCacheNeedsWatcher: SessionCache on a store that cannot
// report its changes is a configuration error naming the setting.
func TestSessionCacheNeedsWatcher(t *testing.T) {
	cfg := latch.Config{Mode: latch.ModeOpaque, SessionKey: authtest.SessionKey, SessionCache: latch.Duration(time.Minute)}
	_, err := latch.New(bg, cfg, latch.WithStore(struct{ store.Store }{memstore.New()}))
	if err == nil || !strings.Contains(err.Error(), "SessionCache") || !strings.Contains(err.Error(), "store.Watcher") {
		t.Fatalf("New: %v", err)
	}
	for _, d := range []time.Duration{time.Millisecond, time.Hour, -time.Second} {
		cfg.SessionCache = latch.Duration(d)
		if _, err := latch.New(bg, cfg); err == nil || !strings.Contains(err.Error(), "SessionCache") {
			t.Errorf("SessionCache %s: %v, want refused", d, err)
		}
	}
}

// TestSessionCacheEntryAge: a report lost while the heartbeats still
// arrive (a store that crashed between a change and its report) leaves a
// stale entry for SessionCache at most: no entry is served longer than
// that after its read began.
func TestSessionCacheEntryAge(t *testing.T) {
	w := newWatched()
	a := cachedEnv(t, latch.ModeOpaque, w, nil)
	b := cachedEnv(t, latch.ModeOpaque, w, nil)
	victim := a.Login(t, users["1"], "laptop")
	p, err := a.Auth.Authenticate(bg, victim.AccessToken, access)
	must(t, err)
	read := time.Now()
	if _, err := b.Auth.Authenticate(bg, victim.AccessToken, access); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.lose = true
	w.mu.Unlock()
	must(t, a.Auth.Logout(bg, p))
	refusedWithinTrust(t, b, victim.AccessToken, read, "after the cache read the session")
	if !latch.CacheTrusted(b.Auth) {
		t.Error("b stopped trusting its cache, though its beats still came back")
	}
}

// refusedWithinTrust polls e with tok until it is refused as revoked,
// and fails if any other error comes first or if that takes longer than
// SessionCache (and a little) from since.
func refusedWithinTrust(t *testing.T, e *env, tok string, since time.Time, what string) {
	t.Helper()
	for {
		_, err := e.Auth.Authenticate(bg, tok, access)
		if errors.Is(err, latch.ErrTokenRevoked) {
			return
		}
		if err != nil || time.Since(since) > cacheTrust+100*time.Millisecond {
			t.Fatalf("%s %s: %v, want refused within SessionCache (%s)", time.Since(since), what, err, cacheTrust)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
