package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/latchauth/latch"
)

// message is the body of every answer that is just a message.
type message struct {
	Msg string `json:"msg"`
}

// loginRequest is the body of POST /login. Device is an optional label
// for the session list ("laptop", "phone").
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Device   string `json:"device"`
}

// login checks the credentials and starts a session for this device.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	req, err := readLogin(r)
	switch {
	case errors.Is(err, latch.ErrBodyTooLarge):
		a.auth.WriteError(w, r, err)
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, message{"Bad request"})
		return
	}
	u := a.users.authenticate(req.Username, req.Password)
	if u == nil {
		writeJSON(w, http.StatusUnauthorized, message{"Bad username or password"})
		return
	}
	tokens, err := a.auth.Login(r.Context(), u, latch.LoginOptions{
		Device: latch.DeviceFromRequest(r, req.Device),
	})
	if err != nil {
		a.auth.WriteError(w, r, err)
		return
	}
	if a.cookies {
		a.auth.SetCookies(w, tokens)
	}
	writeJSON(w, http.StatusOK, tokens)
}

// errBadLogin: the login body is not one JSON object with a username and
// a password.
var errBadLogin = errors.New("seed: bad login request")

// readLogin reads and decodes the login body: one JSON object, at most
// loginBodyLimit bytes, with a non-empty username and password.
func readLogin(r *http.Request) (*loginRequest, error) {
	body, err := latch.ReadBody(r, loginBodyLimit)
	if err != nil {
		return nil, err
	}
	var req loginRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, errBadLogin
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF { // trailing data
		return nil, errBadLogin
	}
	if req.Username == "" || req.Password == "" {
		return nil, errBadLogin
	}
	return &req, nil
}

// principal returns the caller that latch verified. Routes behind
// Required always have one; without it the answer is a 500.
func principal(w http.ResponseWriter, r *http.Request) (*latch.Principal, bool) {
	p, ok := latch.FromContext(r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, message{"Internal error"})
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
	u, ok := latch.UserFrom[*user](r.Context())
	if !ok {
		writeJSON(w, http.StatusInternalServerError, message{"Internal error"})
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

// admin is reached only by administrators (see adminOnly).
func admin(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"foo": "bar"})
}

// logout ends the session of the token presented, and only that one.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	if err := a.auth.Logout(r.Context(), p); err != nil {
		a.auth.WriteError(w, r, err)
		return
	}
	a.auth.ClearCookies(w)
	writeJSON(w, http.StatusOK, message{"Logged out"})
}

// logoutAll ends every session of the caller, on every device.
func (a *app) logoutAll(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	n, err := a.auth.RevokeAll(r.Context(), p.Subject)
	if err != nil {
		a.auth.WriteError(w, r, err)
		return
	}
	a.auth.ClearCookies(w)
	writeJSON(w, http.StatusOK, struct {
		Msg     string `json:"msg"`
		Revoked int    `json:"revoked"`
	}{"Logged out everywhere", n})
}

// sessions lists the caller's sessions, newest first, marking the one the
// request came from.
func (a *app) sessions(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	list, err := a.auth.Sessions(r.Context(), p.Subject, p.SessionID)
	if err != nil {
		a.auth.WriteError(w, r, err)
		return
	}
	if list == nil {
		list = []latch.SessionInfo{}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []latch.SessionInfo `json:"sessions"`
	}{list})
}

// revokeSession ends one of the caller's sessions by id. Another user's
// session, or an unknown id, is 404 and nothing changes.
func (a *app) revokeSession(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	if err := a.auth.RevokeSession(r.Context(), p.Subject, r.PathValue("id")); err != nil {
		a.auth.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, message{"Session revoked"})
}

// health answers without authentication, for load balancers.
func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
