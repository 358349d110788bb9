package main

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// routes returns the walkthrough's routes on echo, plus sessions and JWKS.
func routes(app *walkthrough.App) http.Handler {
	web := app.Web
	e := echo.NewWithConfig(echo.Config{
		// echo's own messages go where the server's log goes.
		Logger: app.Log,
		// latch's errors, returned by handlers, get latch's answers;
		// echo's own (404, 405) get JSON like every other answer.
		HTTPErrorHandler: latchecho5.ErrorHandler(web, routerError),
		// Path parameters are decoded once, as net/http's PathValue is.
		Router: echo.NewRouter(echo.RouterConfig{UnescapePathParamValues: true}),
	})
	// net/http's GET routes answer HEAD too.
	get := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h, m...)
	}

	required := latchecho5.Middleware(web, latchhttp.Required())
	e.POST("/login", login(app))
	e.POST("/refresh", echo.WrapHandler(web.RefreshHandler()))
	e.POST("/revoke", echo.WrapHandler(web.RevocationHandler())) // RFC 7009
	get("/protected", protected, required)
	get("/who_am_i", whoAmI, required)
	get("/claims", claims, required)
	get("/optionally_protected", optionallyProtected, latchecho5.Middleware(web, latchhttp.Optional()))
	get("/admin", admin, latchecho5.Middleware(web, latchhttp.Required().With(walkthrough.AdminOnly)))
	e.POST("/logout", logout(app), required)
	// Routes that manage sessions confirm the caller's own session is live,
	// even in jwt mode without LATCH_SESSION_CHECK.
	sessionCheck := latchecho5.Middleware(web, latchhttp.SessionCheck())
	e.POST("/logout_all", logoutAll(app), sessionCheck)
	get("/sessions", listSessions(app), sessionCheck)
	e.DELETE("/sessions/:id", revokeSession(app), sessionCheck)
	get("/health", health)
	if k := app.Auth.Keyring(); k != nil {
		get("/.well-known/jwks.json", echo.WrapHandler(latchhttp.JWKSHandler(k)))
	}
	return e
}

// writeJSON answers with status and v as JSON, uncached, as latch's own
// answers go out: they carry tokens or depend on who asks.
func writeJSON(c *echo.Context, status int, v any) error {
	latchhttp.WriteJSON(c.Response(), status, v)
	return nil
}

// routerError answers the errors that are not latch's: echo's 404 and 405
// as {"msg": status text} with the headers net/http's http.Error sets,
// anything else as a 500 that shows nothing of the error.
func routerError(c *echo.Context, err error) {
	if res, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && res.Committed {
		return
	}
	status := http.StatusInternalServerError
	// echo.StatusCode, not *echo.HTTPError: the router's echo.ErrNotFound
	// and echo.ErrMethodNotAllowed are not *echo.HTTPError in v5.
	if code := echo.StatusCode(err); code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		status = code
		c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	}
	msg := http.StatusText(status)
	if status == http.StatusInternalServerError {
		msg = "Internal error"
	}
	writeJSON(c, status, walkthrough.Message{Msg: msg})
}

// login checks the credentials and starts a session for this device.
func login(app *walkthrough.App) echo.HandlerFunc {
	return func(c *echo.Context) error {
		req, err := walkthrough.ReadLogin(c.Request())
		switch {
		case errors.Is(err, latch.ErrBodyTooLarge):
			return err
		case err != nil:
			return writeJSON(c, http.StatusBadRequest, walkthrough.Message{Msg: "Bad request"})
		}
		// Not c.RealIP(): it believes X-Forwarded-For from anyone unless
		// the IP extractor is set. See Authenticate.
		u, err := app.Authenticate(c.Request().Context(), req, c.Request().RemoteAddr)
		if err != nil {
			return err // 429 with Retry-After when throttled, through latchecho5.ErrorHandler
		}
		if u == nil {
			return writeJSON(c, http.StatusUnauthorized, walkthrough.Message{Msg: "Bad username or password"})
		}
		tokens, err := app.Auth.Login(c.Request().Context(), u, latch.LoginOptions{
			Device: latchhttp.DeviceFromRequest(c.Request(), req.Device),
		})
		if err != nil {
			return err
		}
		app.Web.WriteTokens(c.Response(), tokens) // in cookies, if the cookie location is configured
		return nil
	}
}

// errNoPrincipal: a route that needs a principal got none, which the
// guard in front of it rules out. It is answered as a 500.
var errNoPrincipal = errors.New("echo example: no principal behind a guard")

// principal returns the caller that latch verified. Routes behind
// Required always have one.
func principal(c *echo.Context) (*latch.Principal, error) {
	p, ok := latchecho5.Principal(c)
	if !ok {
		return nil, errNoPrincipal
	}
	return p, nil
}

// protected answers who is logged in: the token's subject.
func protected(c *echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"logged_in_as": p.Subject})
}

// whoAmI answers the user the user loader found for the token.
func whoAmI(c *echo.Context) error {
	u, ok := latchecho5.User[*walkthrough.User](c)
	if !ok {
		return errNoPrincipal
	}
	return writeJSON(c, http.StatusOK, u)
}

// claims answers two of the claims the claims loader added at login.
func claims(c *echo.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"foo": p.Claims["foo"], "upcase_name": p.Claims["upcase_name"]})
}

// optionallyProtected answers the subject, or "anonymous user" when the
// request carries no token.
func optionallyProtected(c *echo.Context) error {
	who := "anonymous user"
	if p, ok := latchecho5.Principal(c); ok {
		who = p.Subject
	}
	return writeJSON(c, http.StatusOK, map[string]any{"logged_in_as": who})
}

// admin is reached only by administrators (see walkthrough.AdminOnly).
func admin(c *echo.Context) error { return writeJSON(c, http.StatusOK, map[string]any{"foo": "bar"}) }

// logout ends the session of the token presented, and only that one.
func logout(app *walkthrough.App) echo.HandlerFunc {
	return func(c *echo.Context) error {
		p, err := principal(c)
		if err != nil {
			return err
		}
		if err := app.Auth.Logout(c.Request().Context(), p); err != nil {
			return err
		}
		app.Web.ClearCookies(c.Response())
		return writeJSON(c, http.StatusOK, walkthrough.Message{Msg: "Logged out"})
	}
}

// logoutAll ends every session of the caller, on every device.
func logoutAll(app *walkthrough.App) echo.HandlerFunc {
	return func(c *echo.Context) error {
		p, err := principal(c)
		if err != nil {
			return err
		}
		n, err := app.Auth.RevokeAll(c.Request().Context(), p.Subject)
		if err != nil {
			return err
		}
		app.Web.ClearCookies(c.Response())
		return writeJSON(c, http.StatusOK, map[string]any{"msg": "Logged out everywhere", "revoked": n})
	}
}

// listSessions lists the caller's sessions, newest first, marking the one
// the request came from.
func listSessions(app *walkthrough.App) echo.HandlerFunc {
	return func(c *echo.Context) error {
		p, err := principal(c)
		if err != nil {
			return err
		}
		list, err := app.Auth.Sessions(c.Request().Context(), p)
		if err != nil {
			return err
		}
		if list == nil {
			list = []latch.SessionInfo{}
		}
		return writeJSON(c, http.StatusOK, map[string]any{"sessions": list})
	}
}

// revokeSession ends one of the caller's sessions by id. Another user's
// session, or an unknown id, is 404 and nothing changes.
func revokeSession(app *walkthrough.App) echo.HandlerFunc {
	return func(c *echo.Context) error {
		p, err := principal(c)
		if err != nil {
			return err
		}
		// Decoded by the router (UnescapePathParamValues); an id that does
		// not decode is passed as it came, and is no session id: 404.
		if err := app.Auth.LogoutSession(c.Request().Context(), p, c.Param("id")); err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, walkthrough.Message{Msg: "Session revoked"})
	}
}

// health answers without authentication, for load balancers.
func health(c *echo.Context) error {
	return writeJSON(c, http.StatusOK, map[string]any{"status": "ok"})
}
