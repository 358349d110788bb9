package latch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
