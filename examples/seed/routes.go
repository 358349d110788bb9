package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// routes returns the walkthrough's routes on an http.ServeMux, plus
// sessions and JWKS.
func routes(app *walkthrough.App) http.Handler {
	mux := http.NewServeMux()
	web := app.Web
	required := web.Middleware(latchhttp.Required())
	mux.HandleFunc("POST /login", login(app))
	mux.Handle("POST /refresh", web.RefreshHandler())
	mux.Handle("POST /revoke", web.RevocationHandler()) // RFC 7009
	mux.Handle("GET /protected", required(http.HandlerFunc(protected)))
	mux.Handle("GET /who_am_i", required(http.HandlerFunc(whoAmI)))
	mux.Handle("GET /claims", required(http.HandlerFunc(claims)))
	mux.Handle("GET /optionally_protected", web.Middleware(latchhttp.Optional())(http.HandlerFunc(optionallyProtected)))
	mux.Handle("GET /admin", web.Middleware(latchhttp.Required().With(walkthrough.AdminOnly))(http.HandlerFunc(admin)))
	mux.Handle("POST /logout", required(logout(app)))
	// Step-up: re-checking the password makes the session fresh again,
	// which routes behind Fresh need.
	mux.Handle("POST /step_up", required(stepUp(app)))
	mux.Handle("GET /protected_fresh", web.Middleware(latchhttp.Fresh())(http.HandlerFunc(protected)))
	// Routes that manage sessions confirm the caller's own session is live,
	// even in jwt mode without LATCH_SESSION_CHECK.
	sessionCheck := web.Middleware(latchhttp.SessionCheck())
	mux.Handle("POST /logout_all", sessionCheck(logoutAll(app)))
	mux.Handle("GET /sessions", sessionCheck(listSessions(app)))
	mux.Handle("DELETE /sessions/{id}", sessionCheck(revokeSession(app)))
	// Support staff (administrators here: who may is the app's choice)
	// open a session as a user; their own session must be live.
	mux.Handle("POST /login_as", web.Middleware(latchhttp.SessionCheck().With(walkthrough.AdminOnly))(loginAs(app)))
	mux.HandleFunc("GET /health", health)
	if k := app.Auth.Keyring(); k != nil {
		mux.Handle("GET /.well-known/jwks.json", latchhttp.JWKSHandler(k))
	}
	return jsonErrors(mux)
}

// login checks the credentials and starts a session for this device.
func login(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := walkthrough.ReadLogin(r)
		switch {
		case errors.Is(err, latch.ErrBodyTooLarge):
			app.Web.WriteError(w, r, err)
			return
		case err != nil:
			writeJSON(w, http.StatusBadRequest, walkthrough.Message{Msg: "Bad request"})
			return
		}
		u, err := app.Authenticate(r.Context(), req, r.RemoteAddr) // behind a proxy: see Authenticate
		if err != nil {
			app.Web.WriteError(w, r, err) // 429 with Retry-After when throttled
			return
		}
		if u == nil {
			writeJSON(w, http.StatusUnauthorized, walkthrough.Message{Msg: "Bad username or password"})
			return
		}
		opts := req.Lifetimes(app.Auth.Config()) // "remember me" unchecked: a shorter idle timeout
		opts.Device = latchhttp.DeviceFromRequest(r, req.Device)
		tokens, err := app.Auth.Login(r.Context(), u, opts)
		if err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		app.Web.WriteTokens(w, tokens) // in cookies, if the cookie location is configured
	}
}

// stepUp re-checks the caller's password and makes their session fresh
// again, without a new session: {"password": "..."}.
func stepUp(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		var req struct {
			Password string `json:"password"`
		}
		if !readJSON(app, w, r, &req) {
			return
		}
		u, _ := latch.UserFrom[*walkthrough.User](r.Context())
		if u == nil || app.Users.Authenticate(u.Username, req.Password) == nil {
			writeJSON(w, http.StatusUnauthorized, walkthrough.Message{Msg: "Bad password"})
			return
		}
		t, err := app.Auth.StepUp(r.Context(), p) // ErrDelegated (403) for staff acting as the user
		if err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		app.Web.WriteStepUp(w, t) // a fresh access token where the mode has one; the refresh token stays
	}
}

// loginAs opens a session for another user on the administrator's
// behalf: {"user_id": "1"}. The tokens go in the body, never in cookies,
// so the administrator's own browser session stays theirs.
func loginAs(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		staff, ok := principal(w, r)
		if !ok {
			return
		}
		var req struct {
			UserID string `json:"user_id"`
		}
		if !readJSON(app, w, r, &req) {
			return
		}
		u := app.Users.Get(req.UserID)
		if u == nil {
			writeJSON(w, http.StatusNotFound, walkthrough.Message{Msg: "User not found"})
			return
		}
		t, err := app.Auth.LoginAs(r.Context(), staff, u, latch.LoginOptions{
			Device: latchhttp.DeviceFromRequest(r, "support: "+staff.Subject),
		})
		if err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		latchhttp.WriteJSON(w, http.StatusOK, t)
	}
}

// readJSON decodes a small JSON body into v, answering 413 or 400 when it
// cannot.
func readJSON(app *walkthrough.App, w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := latchhttp.ReadBody(r, 4096)
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	switch {
	case errors.Is(err, latch.ErrBodyTooLarge):
		app.Web.WriteError(w, r, err)
	case err != nil:
		writeJSON(w, http.StatusBadRequest, walkthrough.Message{Msg: "Bad request"})
	}
	return err == nil
}

// principal returns the caller that latch verified. Routes behind
// Required always have one; without it the answer is a 500.
func principal(w http.ResponseWriter, r *http.Request) (*latch.Principal, bool) {
	p, ok := latch.FromContext(r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, walkthrough.Message{Msg: "Internal error"})
	}
	return p, ok
}

// protected answers who is logged in: the token's subject.
func protected(w http.ResponseWriter, r *http.Request) {
	if p, ok := principal(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]string{"logged_in_as": p.Subject})
	}
}

// whoAmI answers the user the user loader found for the token.
func whoAmI(w http.ResponseWriter, r *http.Request) {
	u, ok := latch.UserFrom[*walkthrough.User](r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, walkthrough.Message{Msg: "Internal error"})
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// claims answers two of the claims the claims loader added at login.
func claims(w http.ResponseWriter, r *http.Request) {
	if p, ok := principal(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{
			"foo":         p.Claims["foo"],
			"upcase_name": p.Claims["upcase_name"],
		})
	}
}

// optionallyProtected answers the subject, or "anonymous user" when the
// request carries no token.
func optionallyProtected(w http.ResponseWriter, r *http.Request) {
	who := "anonymous user"
	if p, ok := latch.FromContext(r.Context()); ok {
		who = p.Subject
	}
	writeJSON(w, http.StatusOK, map[string]string{"logged_in_as": who})
}

// admin is reached only by administrators (see walkthrough.AdminOnly).
func admin(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"foo": "bar"})
}

// logout ends the session of the token presented, and only that one.
func logout(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		if err := app.Auth.Logout(r.Context(), p); err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		app.Web.ClearCookies(w)
		writeJSON(w, http.StatusOK, walkthrough.Message{Msg: "Logged out"})
	}
}

// logoutAll ends every session of the caller, on every device.
func logoutAll(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		n, err := app.Auth.RevokeAll(r.Context(), p.Subject)
		if err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		app.Web.ClearCookies(w)
		writeJSON(w, http.StatusOK, struct {
			Msg     string `json:"msg"`
			Revoked int    `json:"revoked"`
		}{"Logged out everywhere", n})
	}
}

// listSessions lists the caller's sessions, newest first, marking the one
// the request came from.
func listSessions(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		list, err := app.Auth.Sessions(r.Context(), p)
		if err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		if list == nil {
			list = []latch.SessionInfo{}
		}
		writeJSON(w, http.StatusOK, struct {
			Sessions []latch.SessionInfo `json:"sessions"`
		}{list})
	}
}

// revokeSession ends one of the caller's sessions by id. Another user's
// session, or an unknown id, is 404 and nothing changes.
func revokeSession(app *walkthrough.App) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		if err := app.Auth.LogoutSession(r.Context(), p, r.PathValue("id")); err != nil {
			app.Web.WriteError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, walkthrough.Message{Msg: "Session revoked"})
	}
}

// health answers without authentication, for load balancers.
func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
