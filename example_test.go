package latch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/latchauth/latch"
)

// A login route that issues tokens, and a route that needs one.
func Example() {
	auth, err := latch.New(latch.Config{Mode: latch.ModeOpaque}, latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the password first; then start this device's session.
		tokens, err := auth.Login(r.Context(), "alice", latch.LoginOptions{
			Device: latch.DeviceFromRequest(r, "laptop"),
		})
		if err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, tokens.AccessToken)
	})
	mux.Handle("GET /protected", auth.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := latch.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, _ := http.Post(srv.URL+"/login", "", nil)
	tok, _ := io.ReadAll(res.Body)
	res.Body.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/protected", nil)
	req.Header.Set("Authorization", "Bearer "+string(tok))
	res, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	res, _ = http.Get(srv.URL + "/protected")
	fmt.Println(res.StatusCode, res.Header.Get("WWW-Authenticate"))
	res.Body.Close()
	// Output:
	// 200 hello alice
	// 401 Bearer realm="latch"
}

// The same application code in every mode: only the configuration changes.
func Example_modeSwitch() {
	for _, mode := range []string{"opaque", "jwt", "hybrid"} {
		cfg := latch.Config{Mode: latch.Mode(mode)}
		cfg.JWT.Secret = latch.Secret(testSecret) // LATCH_JWT_SECRET in real life
		auth, err := latch.New(cfg, latch.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			panic(err)
		}
		tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})
		p, err := auth.Verify(context.Background(), tokens.AccessToken, latch.Access)
		fmt.Printf("%-6s access %-4s… refresh %-4s… subject=%s err=%v\n",
			mode, tokens.AccessToken[:4], tokens.RefreshToken[:4], p.Subject, err)
	}
	// Output:
	// opaque access lta_… refresh ltr_… subject=alice err=<nil>
	// jwt    access eyJh… refresh eyJh… subject=alice err=<nil>
	// hybrid access eyJh… refresh ltr_… subject=alice err=<nil>
}

// Errors match their kind, and the broader kind above it, with errors.Is.
func ExampleAuth_Refresh() {
	auth, _ := latch.New(latch.Config{}, latch.WithLogger(slog.New(slog.DiscardHandler)))
	ctx := context.Background()
	tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})

	if _, err := auth.Refresh(ctx, tokens.RefreshToken); err == nil {
		fmt.Println("rotated")
	}
	_, err := auth.Refresh(ctx, tokens.RefreshToken) // spent moments ago
	fmt.Println(errors.Is(err, latch.ErrRefreshRace), errors.Is(err, latch.ErrInvalidToken))

	_, err = auth.Refresh(ctx, "ltr_"+strings.Repeat("0", 71))
	fmt.Println(errors.Is(err, latch.ErrMalformedToken), latch.StatusCode(err))
	// Output:
	// rotated
	// true true
	// true 401
}

// A guard built from the verified claims, like the walkthrough's
// admin_required.
func ExampleAuth_Require() {
	auth, _ := latch.New(latch.Config{}, latch.WithLogger(slog.New(slog.DiscardHandler)))
	adminOnly := auth.Require(func(r *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	})
	h := adminOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"foo":"bar"}`) }))

	for _, admin := range []bool{false, true} {
		tokens, _ := auth.Login(context.Background(), "bruce", latch.LoginOptions{
			Claims: map[string]any{"is_administrator": admin},
		})
		r := httptest.NewRequest("GET", "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 403 {"msg":"Admins only!"}
	// 200 {"foo":"bar"}
}

// Handlers get the application's own user type, loaded once per request.
func ExampleWithUserLoader() {
	type User struct{ ID, Name string }
	db := map[string]*User{"7": {ID: "7", Name: "Ann"}}

	auth, _ := latch.New(latch.Config{},
		latch.WithLogger(slog.New(slog.DiscardHandler)),
		latch.WithIdentity(func(u *User) string { return u.ID }),
		latch.WithUserLoader(func(ctx context.Context, p *latch.Principal) (*User, error) {
			return db[p.Subject], nil // nil: 401 "Error loading the user 7"
		}),
	)
	h := auth.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := latch.UserFrom[*User](r.Context())
		fmt.Fprintf(w, "hello %s", u.Name)
	}))
	tokens, _ := auth.Login(context.Background(), db["7"], latch.LoginOptions{})

	for _, deleted := range []bool{false, true} {
		if deleted {
			delete(db, "7")
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello Ann
	// 401 {"msg":"Error loading the user 7"}
}

// Browser sessions in cookies: HttpOnly tokens, and a CSRF value that
// scripts echo in X-CSRF-Token on unsafe methods.
func ExampleAuth_SetCookies() {
	cfg := latch.Config{}
	cfg.HTTP.Locations = []latch.Location{latch.InCookie}
	auth, _ := latch.New(cfg, latch.WithLogger(slog.New(slog.DiscardHandler)))
	tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})

	w := httptest.NewRecorder()
	auth.SetCookies(w, tokens)
	cookies := w.Result().Cookies()
	for _, c := range cookies {
		fmt.Println(c.Name, "HttpOnly:", c.HttpOnly, "Secure:", c.Secure)
	}

	h := auth.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, withCSRF := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		if withCSRF {
			r.Header.Set("X-CSRF-Token", latch.CSRFToken(tokens.AccessToken))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println("POST with CSRF header:", withCSRF, "->", w.Code)
	}
	// Output:
	// __Host-latch_access HttpOnly: true Secure: true
	// __Host-latch_csrf_access HttpOnly: false Secure: true
	// __Host-latch_refresh HttpOnly: true Secure: true
	// __Host-latch_csrf_refresh HttpOnly: false Secure: true
	// POST with CSRF header: false -> 403
	// POST with CSRF header: true -> 200
}

// An introspection endpoint (RFC 7662) for a service that cannot check
// latch's access tokens itself; it authenticates with HTTP Basic.
func ExampleAuth_IntrospectionHandler() {
	auth, _ := latch.New(latch.Config{}, latch.WithLogger(slog.New(slog.DiscardHandler)))
	clientSecret := "Zm9yIGV4YW1wbGUgb25seTogdXNlIDMyIHJhbmRvbSBieXRlcw" // 32 random bytes, base64, from your secret store
	mux := http.NewServeMux()
	mux.Handle("POST /introspect", auth.IntrospectionHandler(latch.BasicClient("billing", clientSecret)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tokens, _ := auth.Login(context.Background(), "alice", latch.LoginOptions{})
	ask := func(tok string) {
		req, _ := http.NewRequest("POST", srv.URL+"/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("billing", clientSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var answer struct {
			Active  bool   `json:"active"`
			Subject string `json:"sub"`
		}
		json.NewDecoder(res.Body).Decode(&answer)
		if answer.Active {
			fmt.Println(res.StatusCode, "active, subject", answer.Subject)
		} else {
			fmt.Println(res.StatusCode, "inactive")
		}
	}
	ask(tokens.AccessToken)
	ask(tokens.RefreshToken) // not a bearer token for a resource server
	auth.RevokeAll(context.Background(), "alice")
	ask(tokens.AccessToken)
	// Output:
	// 200 active, subject alice
	// 200 inactive
	// 200 inactive
}
