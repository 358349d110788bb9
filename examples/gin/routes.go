package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchgin"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// routes returns the walkthrough's routes on gin, plus sessions and JWKS.
func routes(app *walkthrough.App) http.Handler {
	web := app.Web
	r := gin.New()
	r.Use(recovery(app.Log))
	// Answer as net/http's ServeMux does: 405 with Allow for a known path,
	// no redirect for a trailing slash, "%2F" kept inside a path segment,
	// and HEAD wherever GET is.
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.UseRawPath = true
	r.NoRoute(routerError(http.StatusNotFound))
	r.NoMethod(routerError(http.StatusMethodNotAllowed))
	get := func(path string, h ...gin.HandlerFunc) { r.GET(path, h...); r.HEAD(path, h...) }

	required := latchgin.Middleware(web, latchhttp.Required())
	r.POST("/login", login(app))
	r.POST("/refresh", gin.WrapH(web.RefreshHandler()))
	r.POST("/revoke", gin.WrapH(web.RevocationHandler())) // RFC 7009
	get("/protected", required, protected)
	get("/who_am_i", required, whoAmI)
	get("/claims", required, claims)
	get("/optionally_protected", latchgin.Middleware(web, latchhttp.Optional()), optionallyProtected)
	get("/admin", latchgin.Middleware(web, latchhttp.Required().With(walkthrough.AdminOnly)), admin)
	r.POST("/logout", required, logout(app))
	// Routes that manage sessions confirm the caller's own session is live,
	// even in jwt mode without LATCH_SESSION_CHECK.
	sessions := r.Group("", latchgin.Middleware(web, latchhttp.SessionCheck()))
	sessions.POST("/logout_all", logoutAll(app))
	sessions.GET("/sessions", listSessions(app))
	sessions.HEAD("/sessions", listSessions(app))
	sessions.DELETE("/sessions/:id", revokeSession(app))
	get("/health", health)
	if k := app.Auth.Keyring(); k != nil {
		get("/.well-known/jwks.json", gin.WrapH(latchhttp.JWKSHandler(k)))
	}
	return r
}

// writeJSON answers with status and v as JSON, uncached, as latch's own
// answers go out: they carry tokens or depend on who asks.
func writeJSON(c *gin.Context, status int, v any) { latchhttp.WriteJSON(c.Writer, status, v) }

// routerError answers gin's 404 and 405 in JSON like every other answer,
// with the headers net/http's http.Error sets.
func routerError(status int) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("X-Content-Type-Options", "nosniff")
		writeJSON(c, status, walkthrough.Message{Msg: http.StatusText(status)})
	}
}

// recovery answers a panicking handler 500 {"msg":"Internal error"} and
// logs the panic through slog: where it happened and the stack, never the
// request's headers. gin.Recovery would print them on a panic in debug
// mode, and on a broken connection in any mode, Cookie and X-CSRF-Token
// included; it hides only Authorization. A broken connection is
// recorded in c.Errors and nothing is logged or written.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		log.Error("gin: panic serving a request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			writeJSON(c, http.StatusInternalServerError, walkthrough.Message{Msg: "Internal error"})
		}
		c.Abort()
	})
}

// login checks the credentials and starts a session for this device.
func login(app *walkthrough.App) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := walkthrough.ReadLogin(c.Request)
		switch {
		case errors.Is(err, latch.ErrBodyTooLarge):
			latchgin.AbortWithError(c, app.Web, err)
			return
		case err != nil:
			writeJSON(c, http.StatusBadRequest, walkthrough.Message{Msg: "Bad request"})
			return
		}
		// Not c.ClientIP(): it believes X-Forwarded-For from anyone unless
		// the engine's trusted proxies are set. See Authenticate.
		u, err := app.Authenticate(c.Request.Context(), req, c.Request.RemoteAddr)
		if err != nil {
			latchgin.AbortWithError(c, app.Web, err) // 429 with Retry-After when throttled
			return
		}
		if u == nil {
			writeJSON(c, http.StatusUnauthorized, walkthrough.Message{Msg: "Bad username or password"})
			return
		}
		tokens, err := app.Auth.Login(c.Request.Context(), u, latch.LoginOptions{
			Device: latchhttp.DeviceFromRequest(c.Request, req.Device),
		})
		if err != nil {
			latchgin.AbortWithError(c, app.Web, err)
			return
		}
		app.Web.WriteTokens(c.Writer, tokens) // in cookies, if the cookie location is configured
	}
}

// principal returns the caller that latch verified. Routes behind
// Required always have one; without it the answer is a 500.
func principal(c *gin.Context) (*latch.Principal, bool) {
	p, ok := latchgin.Principal(c)
	if !ok {
		writeJSON(c, http.StatusInternalServerError, walkthrough.Message{Msg: "Internal error"})
		c.Abort()
	}
	return p, ok
}

// protected answers who is logged in: the token's subject.
func protected(c *gin.Context) {
	if p, ok := principal(c); ok {
		writeJSON(c, http.StatusOK, gin.H{"logged_in_as": p.Subject})
	}
}

// whoAmI answers the user the user loader found for the token.
func whoAmI(c *gin.Context) {
	u, ok := latchgin.User[*walkthrough.User](c)
	if !ok {
		writeJSON(c, http.StatusInternalServerError, walkthrough.Message{Msg: "Internal error"})
		return
	}
	writeJSON(c, http.StatusOK, u)
}

// claims answers two of the claims the claims loader added at login.
func claims(c *gin.Context) {
	if p, ok := principal(c); ok {
		writeJSON(c, http.StatusOK, gin.H{"foo": p.Claims["foo"], "upcase_name": p.Claims["upcase_name"]})
	}
}

// optionallyProtected answers the subject, or "anonymous user" when the
// request carries no token.
func optionallyProtected(c *gin.Context) {
	who := "anonymous user"
	if p, ok := latchgin.Principal(c); ok {
		who = p.Subject
	}
	writeJSON(c, http.StatusOK, gin.H{"logged_in_as": who})
}

// admin is reached only by administrators (see walkthrough.AdminOnly).
func admin(c *gin.Context) { writeJSON(c, http.StatusOK, gin.H{"foo": "bar"}) }

// logout ends the session of the token presented, and only that one.
func logout(app *walkthrough.App) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := principal(c)
		if !ok {
			return
		}
		if err := app.Auth.Logout(c.Request.Context(), p); err != nil {
			latchgin.AbortWithError(c, app.Web, err)
			return
		}
		app.Web.ClearCookies(c.Writer)
		writeJSON(c, http.StatusOK, walkthrough.Message{Msg: "Logged out"})
	}
}

// logoutAll ends every session of the caller, on every device.
func logoutAll(app *walkthrough.App) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := principal(c)
		if !ok {
			return
		}
		n, err := app.Auth.RevokeAll(c.Request.Context(), p.Subject)
		if err != nil {
			latchgin.AbortWithError(c, app.Web, err)
			return
		}
		app.Web.ClearCookies(c.Writer)
		writeJSON(c, http.StatusOK, gin.H{"msg": "Logged out everywhere", "revoked": n})
	}
}

// listSessions lists the caller's sessions, newest first, marking the one
// the request came from.
func listSessions(app *walkthrough.App) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := principal(c)
		if !ok {
			return
		}
		list, err := app.Auth.Sessions(c.Request.Context(), p)
		if err != nil {
			latchgin.AbortWithError(c, app.Web, err)
			return
		}
		if list == nil {
			list = []latch.SessionInfo{}
		}
		writeJSON(c, http.StatusOK, gin.H{"sessions": list})
	}
}

// revokeSession ends one of the caller's sessions by id. Another user's
// session, or an unknown id, is 404 and nothing changes.
func revokeSession(app *walkthrough.App) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := principal(c)
		if !ok {
			return
		}
		if err := app.Auth.LogoutSession(c.Request.Context(), p, c.Param("id")); err != nil {
			latchgin.AbortWithError(c, app.Web, err)
			return
		}
		writeJSON(c, http.StatusOK, walkthrough.Message{Msg: "Session revoked"})
	}
}

// health answers without authentication, for load balancers.
func health(c *gin.Context) { writeJSON(c, http.StatusOK, gin.H{"status": "ok"}) }
