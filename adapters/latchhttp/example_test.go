package latchhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// sessionKey stands for LATCH_SESSION_KEY: make one with
// openssl rand -base64 32, and keep it secret.
const sessionKey = "VCeNMHeMu0RMIkuQab1Xbl6sjlS/fgC0uaXp5nK0830="

// A login route that answers with tokens, and a route that needs one.
func Example() {
	ctx := context.Background()
	auth, err := latch.New(ctx, latch.Config{SessionKey: sessionKey, Mode: latch.ModeOpaque}) // or latch.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	web, err := latchhttp.New(auth, latchhttp.Config{}) // or latchhttp.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the password first; then start this device's session.
		tokens, err := auth.Login(r.Context(), "alice", latch.LoginOptions{
			Device: latchhttp.DeviceFromRequest(r, "laptop"),
		})
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		web.WriteTokens(w, tokens)
	})
	mux.Handle("POST /refresh", web.RefreshHandler())
	mux.Handle("GET /protected", web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := latch.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, _ := http.Post(srv.URL+"/login", "", nil)
	var tokens latch.Tokens
	json.NewDecoder(res.Body).Decode(&tokens)
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Cache-Control"), tokens.TokenType)

	req, _ := http.NewRequest("GET", srv.URL+"/protected", nil)
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	res, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	res, _ = http.Get(srv.URL + "/protected")
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 no-store Bearer
	// 200 hello alice
	// 401 Bearer realm="latch"
}

// A guard with a check of the verified claims, like the walkthrough's
// admin_required.
func ExampleGuard_With() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	web, _ := latchhttp.New(auth, latchhttp.Config{})
	adminOnly := func(r *http.Request, p *latch.Principal) error {
		if p.Claims["is_administrator"] == true {
			return nil
		}
		return latch.Forbidden("Admins only!")
	}
	h := web.Middleware(latchhttp.Required().With(adminOnly))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"foo":"bar"}`)
	}))

	for _, admin := range []bool{false, true} {
		tokens, _ := auth.Login(ctx, "bruce", latch.LoginOptions{Claims: map[string]any{"is_administrator": admin}})
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

// Browser sessions in cookies: HttpOnly tokens, and a CSRF value that
// scripts echo in X-CSRF-Token on unsafe methods. With the cookie
// location configured, WriteTokens sets them and keeps the tokens out of
// the body.
func ExampleAuth_SetCookies() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	web, _ := latchhttp.New(auth, latchhttp.Config{Locations: []latchhttp.Location{latchhttp.InCookie}})
	tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})

	w := httptest.NewRecorder()
	web.WriteTokens(w, tokens) // SetCookies, and a body without the tokens
	fmt.Println(strings.TrimSpace(w.Body.String()))
	cookies := w.Result().Cookies()
	for _, c := range cookies {
		fmt.Println(c.Name, "HttpOnly:", c.HttpOnly, "Secure:", c.Secure)
	}

	h := web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, withCSRF := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		if withCSRF {
			r.Header.Set("X-CSRF-Token", latchhttp.CSRFToken(tokens.AccessToken))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println("POST with CSRF header:", withCSRF, "->", w.Code)
	}
	// Output:
	// {"expires_in":900,"token_type":"Bearer"}
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
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	web, _ := latchhttp.New(auth, latchhttp.Config{})
	clientSecret := "Zm9yIGV4YW1wbGUgb25seTogdXNlIDMyIHJhbmRvbSBieXRlcw" // 32 random bytes, base64, from your secret store
	mux := http.NewServeMux()
	mux.Handle("POST /introspect", web.IntrospectionHandler(latchhttp.BasicClient("billing", clientSecret)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tokens, _ := auth.Login(ctx, "alice", latch.LoginOptions{})
	ask := func(tok string) {
		req, _ := http.NewRequest("POST", srv.URL+"/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("billing", clientSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
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
	auth.RevokeAll(ctx, "alice")
	ask(tokens.AccessToken)
	// Output:
	// 200 active, subject alice
	// 200 inactive
	// 200 inactive
}

// A refusal answered the application's way: here an expired token, like
// flask-jwt-extended's expired_token_loader. Other refusals keep latch's
// answer.
func ExampleWithResponder() {
	ctx := context.Background()
	auth, _ := latch.New(ctx, latch.Config{SessionKey: sessionKey})
	expired := latchhttp.WithResponder(latch.ErrTokenExpired, func(w http.ResponseWriter, r *http.Request, err error) {
		latchhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"code": "token_expired", "hint": "refresh it"})
	})
	web, _ := latchhttp.New(auth, latchhttp.Config{}, expired)

	w := httptest.NewRecorder()
	web.WriteError(w, httptest.NewRequest("GET", "/", nil), latch.ErrTokenExpired)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))

	w = httptest.NewRecorder()
	web.WriteError(w, httptest.NewRequest("GET", "/", nil), latch.ErrTokenRevoked)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// 401 {"code":"token_expired","hint":"refresh it"}
	// 401 {"msg":"Session has ended"}
}
