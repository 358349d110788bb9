package main

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	_ "github.com/latchauth/latch/store/redisstore"        // redis://
	_ "github.com/latchauth/latch/store/sqlstore/postgres" // postgres://
	_ "github.com/latchauth/latch/store/sqlstore/sqlite"   // sqlite:
)

// user is what the user loader finds for a subject, as an application's
// user table would.
type user struct{ ID string }

// serveLatch is latch as an application uses it: its configuration from
// the LATCH_* variables the harness sets (mode, store, keys, session check,
// and LATCH_SESSION_CACHE where the row asks for the cache), a user loader,
// and latchhttp's Required on the route.
func serveLatch(ctx context.Context, _ serverEnv) (http.Handler, []string, error) {
	cfg, err := latch.ConfigFromEnv()
	if err != nil {
		return nil, nil, err
	}
	httpCfg, err := latchhttp.ConfigFromEnv()
	if err != nil {
		return nil, nil, err
	}
	users := make(map[string]*user, tokenCount)
	for i := range tokenCount {
		users[subject(i)] = &user{ID: subject(i)}
	}
	a, err := latch.New(ctx, cfg, latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
		return users[p.Subject], nil // nil: latch.ErrUserNotFound
	}))
	if err != nil {
		return nil, nil, err
	}
	web, err := latchhttp.New(a, httpCfg)
	if err != nil {
		return nil, nil, err
	}
	// The harness reads this line (see startServer).
	fmt.Printf("session_cache=%s\n", sessionCache(a.Config()))
	mux := http.NewServeMux()
	mux.Handle("GET /protected", web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := latch.UserFrom[*user](r.Context())
		answer(w, u.ID)
	})))
	toks, err := login(ctx, a)
	return mux, toks, err
}

// login opens a session for each of tokenCount users and returns their
// access tokens, eight logins at a time (a networked store's round trips
// dominate).
func login(ctx context.Context, a *latch.Auth) ([]string, error) {
	toks := make([]string, tokenCount)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				t, err := a.Login(ctx, subject(i), latch.LoginOptions{})
				if err != nil {
					once.Do(func() { first = err })
					continue
				}
				toks[i] = t.AccessToken
			}
		})
	}
	for i := range toks {
		next <- i
	}
	close(next)
	wg.Wait()
	return toks, first
}

// sessionCache reports the session cache latch has in force: its duration
// when latch.Config has a SessionCache field and it is set, "off" when it
// is zero, and "unsupported" when this latch has no such setting. Read by
// reflection, so that this module builds with or without the field.
func sessionCache(cfg latch.Config) string {
	f := reflect.ValueOf(cfg).FieldByName("SessionCache")
	if !f.IsValid() {
		return "unsupported"
	}
	if f.IsZero() {
		return "off"
	}
	if f.CanInt() {
		return time.Duration(f.Int()).String()
	}
	return "on"
}
