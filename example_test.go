package latch_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/latchauth/latch"
)

// Log a user in, then authenticate the token each request carries. An
// HTTP service does both through package latchhttp.
func Example() {
	ctx := context.Background()
	auth, err := latch.New(ctx, latch.Config{SessionKey: sessionKey, Mode: latch.ModeOpaque}) // or latch.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	// Once the password is checked: a new session for this device.
	tokens, err := auth.Login(ctx, "alice", latch.LoginOptions{Device: latch.Device{Label: "laptop"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tokens.TokenType, tokens.ExpiresIn)

	// On each request.
	p, err := auth.Authenticate(ctx, tokens.AccessToken, latch.Requirement{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Subject, p.Device.Label, p.Fresh)

	_, err = auth.Authenticate(ctx, "lta_nonsense", latch.Requirement{})
	fmt.Println(errors.Is(err, latch.ErrInvalidToken), err)
	// Output:
	// Bearer 900
	// alice laptop true
	// true latch: malformed token: opaque: malformed token
}

// The same application code in every mode: only the configuration changes.
func Example_modeSwitch() {
	ctx := context.Background()
	for _, mode := range []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid} {
		cfg := latch.Config{SessionKey: sessionKey, Mode: mode}
		cfg.JWT.Secret = testSecret // LATCH_JWT_SECRET in real life
		auth, err := latch.New(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})
		p, err := auth.Authenticate(ctx, tokens.AccessToken, latch.Requirement{})
		fmt.Printf("%-6s access %-4s… refresh %-4s… subject=%s err=%v\n",
			mode, tokens.AccessToken[:4], tokens.RefreshToken[:4], p.Subject, err)
	}
	// Output:
	// opaque access lta_… refresh ltr_… subject=alice err=<nil>
	// jwt    access eyJh… refresh eyJh… subject=alice err=<nil>
	// hybrid access eyJh… refresh ltr_… subject=alice err=<nil>
}

// Each refresh rotates the refresh token; one spent moments ago is a
// lost race, one spent long ago a replay that ends the session.
func ExampleAuth_Refresh() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})

	next, err := auth.Refresh(ctx, tokens.RefreshToken)
	fmt.Println(next.RefreshToken != tokens.RefreshToken, err)

	// Spent moments ago (a retry, another tab): the same answer again.
	again, err := auth.Refresh(ctx, tokens.RefreshToken)
	fmt.Println(again.RefreshToken == next.RefreshToken, err)

	// Spent before the session's last refresh: no tokens, the session
	// lives on. Past ReuseGrace it would end the session.
	_, _ = auth.Refresh(ctx, next.RefreshToken)
	_, err = auth.Refresh(ctx, tokens.RefreshToken)
	fmt.Println(errors.Is(err, latch.ErrRefreshRace))
	// Output:
	// true <nil>
	// true <nil>
	// true
}

// Refusals match their kind, and the broader kind above it, with
// errors.Is; PublicMessage is what a client may be shown.
func ExampleAuth_Authenticate() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})
	refreshed, _ := auth.Refresh(ctx, tokens.RefreshToken)

	// A route that changes the password wants a token from a login.
	_, err := auth.Authenticate(ctx, refreshed.AccessToken, latch.Requirement{Fresh: true})
	fmt.Println(errors.Is(err, latch.ErrFreshRequired), errors.Is(err, latch.ErrInvalidToken))
	fmt.Println(latch.PublicMessage(err))

	_, err = auth.Authenticate(ctx, "ltr_"+strings.Repeat("0", 71), latch.Requirement{})
	fmt.Println(latch.Kind(err) == latch.ErrWrongTokenType, latch.PublicMessage(err))
	// Output:
	// true true
	// Fresh token required
	// true Wrong token type
}

// The application's own user type, loaded once per authentication.
func ExampleWithUserLoader() {
	type User struct{ ID, Name string }
	db := map[string]*User{"7": {ID: "7", Name: "Ann"}}

	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey},
		latch.WithIdentity(func(u *User) string { return u.ID }),
		latch.WithUserLoader(func(ctx context.Context, p *latch.Principal) (*User, error) {
			return db[p.Subject], nil // nil: ErrUserNotFound
		}),
	)
	tokens, _ := auth.Login(ctx, db["7"], latch.LoginOptions{})

	p, _ := auth.Authenticate(ctx, tokens.AccessToken, latch.Requirement{})
	fmt.Println("hello", p.User.(*User).Name) // latch.UserFrom[*User](ctx) in a handler

	delete(db, "7")
	_, err := auth.Authenticate(ctx, tokens.AccessToken, latch.Requirement{})
	fmt.Println(errors.Is(err, latch.ErrUserNotFound), latch.PublicMessage(err))
	// Output:
	// hello Ann
	// true Error loading the user 7
}

// A "your devices" page: list the sessions, end the others.
func ExampleAuth_LogoutOthers() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	for _, device := range []string{"laptop", "phone"} {
		auth.Login(ctx, "alice", latch.LoginOptions{Device: latch.Device{Label: device}})
	}
	tablet, _ := auth.Login(ctx, "alice", latch.LoginOptions{Device: latch.Device{Label: "tablet"}})

	// Session management reads the session in every mode.
	me, _ := auth.Authenticate(ctx, tablet.AccessToken, latch.Requirement{SessionCheck: true})
	list, _ := auth.Sessions(ctx, me)
	for _, s := range list {
		if s.Current {
			fmt.Println(len(list), "sessions; this one is the", s.Device.Label)
		}
	}

	n, _ := auth.LogoutOthers(ctx, me)
	list, _ = auth.Sessions(ctx, me)
	fmt.Println(n, "ended;", len(list), "left:", list[0].Device.Label)
	// Output:
	// 3 sessions; this one is the tablet
	// 2 ended; 1 left: tablet
}

// Throttle guesses: ask before checking a password, report the outcome
// after. Past the free attempts (five per account and address by
// default), the next attempt must wait.
func ExampleAuth_Throttle() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	auth, err := latch.New(ctx, latch.Config{SessionKey: sessionKey}, latch.WithClock(func() time.Time { return now }))
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	checkPassword := func(username, password string) bool { return false } // the application's own

	for i := 1; ; i++ {
		att, err := auth.Throttle(ctx, "alice", "192.0.2.1:51000") // r.RemoteAddr, or the address your proxy vouches for
		var throttled *latch.ThrottledError
		if errors.As(err, &throttled) {
			fmt.Println("attempt", i, "throttled: retry after", throttled.RetryAfter)
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		ok := checkPassword("alice", "guess")
		if err := att.Done(ctx, ok); err != nil {
			log.Fatal(err)
		}
		fmt.Println("attempt", i, "checked")
	}
	// Output:
	// attempt 1 checked
	// attempt 2 checked
	// attempt 3 checked
	// attempt 4 checked
	// attempt 5 checked
	// attempt 6 throttled: retry after 1s
}
