// Package latchecho guards echo routes with latch, exactly as latch's
// net/http middleware guards net/http ones: the same guards, token
// locations, CSRF check, statuses, WWW-Authenticate headers, bodies and
// responders, because it calls the same code (latch.Auth.Authenticate and
// latch.Auth.WriteError) rather than a copy of it.
//
//	e := echo.New()
//	e.HTTPErrorHandler = latchecho.ErrorHandler(auth, e.DefaultHTTPErrorHandler)
//	e.POST("/refresh", latchecho.RefreshHandler(auth))
//	e.GET("/protected", func(c echo.Context) error {
//		p, _ := latchecho.Principal(c)
//		return c.JSON(http.StatusOK, echo.Map{"logged_in_as": p.Subject})
//	}, latchecho.Required(auth))
//	admin := e.Group("/admin", latchecho.Require(auth, adminOnly))
//	admin.GET("/dashboard", dashboard)
//
// Handlers read the caller with Principal and the loaded user with User;
// latch.FromContext(c.Request().Context()) works too.
//
// Errors follow echo's convention: the middleware writes and commits
// latch's answer to a refused request and returns an *Error, which goes
// back through the middleware in front of the guard (logging, metrics) to
// e.HTTPErrorHandler. The answer is latch's under echo's default error
// handler too, which leaves committed responses alone. ErrorHandler
// answers the latch errors that handlers return (from Auth.Logout,
// Auth.Sessions and the like), leaves an *Error alone without passing it
// on, and passes every other error to the handler it wraps.
//
// A guard on a group (Group(prefix, guard) or Group.Use) also guards the
// paths under prefix that no route matches: echo routes them through the
// group's middleware, so they are latch's 401 without a token and echo's
// 404 with one.
package latchecho
