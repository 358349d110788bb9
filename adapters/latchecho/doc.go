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
//
// Handlers read the caller with Principal and the loaded user with User;
// latch.FromContext(c.Request().Context()) works too.
//
// Errors follow echo's convention: the middleware returns an *Error for a
// refused request, which reaches e.HTTPErrorHandler and any logging
// middleware, after writing latch's answer, so the answer is latch's
// under echo's default error handler too (it leaves committed responses
// alone). ErrorHandler answers the latch errors that handlers return
// (from Auth.Logout, Auth.Sessions and the like) and passes every other
// error on.
package latchecho
