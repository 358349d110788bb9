package walkthrough

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Message is the body of every answer that is just a message.
type Message struct {
	Msg string `json:"msg"`
}

// LoginRequest is the body of POST /login. Device is an optional label
// for the session list ("laptop", "phone"). Remember is the login form's
// "remember me" box; absent, it is true, so API clients keep the
// configured lifetimes.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Device   string `json:"device"`
	Remember *bool  `json:"remember"`
}

// ForgetAfter is the idle timeout of a login that asked not to be
// remembered (or the configured refresh_ttl, if that is shorter); its
// cookies are browser-session cookies.
const ForgetAfter = 30 * time.Minute

// Lifetimes returns the LoginOptions of this login's lifetimes under cfg:
// a remembered login keeps the configured ones, any other gets an idle
// timeout of ForgetAfter.
func (req *LoginRequest) Lifetimes(cfg latch.Config) latch.LoginOptions {
	if req.Remember == nil || *req.Remember {
		return latch.LoginOptions{}
	}
	return latch.LoginOptions{IdleTimeout: min(ForgetAfter, cfg.RefreshTTL.D())}
}

// loginBodyLimit bounds the JSON body of POST /login.
const loginBodyLimit = 64 << 10

// ErrBadLogin: the login body is not one JSON object with a username and
// a password. Answer it 400 {"msg":"Bad request"}.
var ErrBadLogin = errors.New("walkthrough: bad login request")

// ReadLogin reads and decodes the login body: one JSON object, at most
// 64 KiB, with a non-empty username and password. A longer body is
// latch.ErrBodyTooLarge (answer it with App.Web.WriteError); anything
// else wrong is ErrBadLogin.
func ReadLogin(r *http.Request) (*LoginRequest, error) {
	body, err := latchhttp.ReadBody(r, loginBodyLimit)
	if errors.Is(err, latch.ErrBodyTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, ErrBadLogin
	}
	var req LoginRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, ErrBadLogin
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF { // trailing data
		return nil, ErrBadLogin
	}
	if req.Username == "" || req.Password == "" {
		return nil, ErrBadLogin
	}
	return &req, nil
}

// Authenticate checks req's credentials for a client at addr, throttled
// by latch (Auth.Throttle): it returns the user, or nil for a wrong
// username or password, or latch's refusal to answer with WriteError
// (ErrThrottled, 429 with Retry-After, before any password is checked;
// ErrUnavailable when the store fails). An unknown username costs and
// answers as a wrong password does.
//
// addr must be the client's own address: the frameworks' r.RemoteAddr,
// which is the peer of the TCP connection. Behind a reverse proxy that
// is the proxy, and every client would share one throttling bucket: pass
// the address the proxy reports (X-Forwarded-For as your proxy sets it)
// instead, and only from a proxy you trust, since clients can send the
// header themselves.
func (a *App) Authenticate(ctx context.Context, req *LoginRequest, addr string) (*User, error) {
	att, err := a.Auth.Throttle(ctx, req.Username, addr)
	if err != nil {
		return nil, err
	}
	u := a.Users.Authenticate(req.Username, req.Password)
	if err := att.Done(ctx, u != nil); err != nil {
		return nil, err
	}
	return u, nil
}
