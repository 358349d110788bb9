// Package latchecho5 guards echo v5 routes with latch, exactly as
// latchhttp guards net/http ones: the same guards, token locations, CSRF
// check, statuses, WWW-Authenticate headers, bodies and responders,
// because it runs the same code (latchhttp.Auth.Authenticator and
// latchhttp.Auth.WriteError) rather than a copy of it. It is latchecho for
// github.com/labstack/echo/v5, with the same functions on v5's types.
//
//	web, err := latchhttp.New(auth, latchhttp.Config{})
//	...
//	e := echo.New()
//	e.HTTPErrorHandler = latchecho5.ErrorHandler(web, echo.DefaultHTTPErrorHandler(false))
//	e.POST("/refresh", echo.WrapHandler(web.RefreshHandler()))
//	e.GET("/protected", func(c *echo.Context) error {
//		p, _ := latchecho5.Principal(c)
//		return c.JSON(http.StatusOK, map[string]any{"logged_in_as": p.Subject})
//	}, latchecho5.Middleware(web, latchhttp.Required()))
//	admin := e.Group("/admin", latchecho5.Middleware(web, latchhttp.Required().With(adminOnly)))
//	admin.GET("/dashboard", dashboard)
//
// Handlers read the caller with Principal and the loaded user with User;
// latch.FromContext(c.Request().Context()) works too.
//
// latchhttp's endpoints (refresh, revocation, introspection, JWKS) are
// http.Handlers: mount them with echo.WrapHandler.
//
// Errors follow echo's convention: the middleware writes and commits
// latch's answer to a refused request and returns an *Error, which goes
// back through the middleware in front of the guard (logging, metrics) to
// e.HTTPErrorHandler. The answer is latch's under echo's default error
// handler too, which leaves committed responses alone. An *Error is an
// echo.HTTPStatusCoder, so echo.StatusCode(err) is the status latch
// answered with; echo.ResolveResponseStatus (what echo's RequestLogger
// reads) finds the same status on the committed response.
// ErrorHandler answers the latch errors that handlers return (from
// latch.Auth.Logout, Sessions and the like), leaves an *Error alone
// without passing it on, and passes every other error to the handler it
// wraps, as well as any error that carries an echo status.
//
// Whether a response is committed is what echo.UnwrapResponse(c.Response())
// says, as for echo's own error handler: a middleware that replaces
// c.Response() must give its writer an Unwrap method, as echo asks of it.
// The status of an *Error is noted as latch writes it, so it is right even
// behind a writer that holds the status back, such as the one echo uses
// for HEAD requests with RouterConfig.AutoHandleHEAD.
//
// A guard on a group (Group(prefix, guard) or Group.Use) also guards the
// paths under prefix that no route matches: echo v5, like v4, adds
// catch-all 404 routes to a group with middleware and routes such paths
// through it, so they are latch's 401 without a token and echo's 404
// with one. An instance made with
// echo.Config{NoGroupAutoRegister404Routes: true} adds no such routes:
// those paths are then echo's 404 with or without a token, as on
// net/http, and the group's routes are guarded as before.
package latchecho5
