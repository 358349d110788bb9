// Package latchecho guards echo v4 routes with latch, exactly as
// latchhttp guards net/http ones: the same guards, token locations, CSRF
// check, statuses, WWW-Authenticate headers, bodies and responders,
// because it runs the same code (latchhttp.Auth.Authenticator and
// latchhttp.Auth.WriteError) rather than a copy of it. For echo v5, use
// latchecho5.
//
//	web, err := latchhttp.New(auth, latchhttp.Config{})
//	...
//	e := echo.New()
//	e.HTTPErrorHandler = latchecho.ErrorHandler(web, e.DefaultHTTPErrorHandler)
//	e.POST("/refresh", echo.WrapHandler(web.RefreshHandler()))
//	e.GET("/protected", func(c echo.Context) error {
//		p, _ := latchecho.Principal(c)
//		return c.JSON(http.StatusOK, echo.Map{"logged_in_as": p.Subject})
//	}, latchecho.Middleware(web, latchhttp.Required()))
//	admin := e.Group("/admin", latchecho.Middleware(web, latchhttp.Required().With(adminOnly)))
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
// handler too, which leaves committed responses alone. ErrorHandler
// answers the latch errors that handlers return (from latch.Auth.Logout,
// Sessions and the like), leaves an *Error alone without passing it
// on, and passes every other error to the handler it wraps.
//
// A guard on a group (Group(prefix, guard) or Group.Use) also guards the
// paths under prefix that no route matches: echo routes them through the
// group's middleware, so they are latch's 401 without a token and echo's
// 404 with one.
package latchecho
