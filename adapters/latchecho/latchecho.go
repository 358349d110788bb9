package latchecho

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/internal/echokit"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Error is what the guard returns for a refused request, after writing
// latch's answer: Err is latch's error (errors.Is matches its kind through
// Unwrap), Status the status of the answer written.
type Error = echokit.Error

// Middleware returns echo middleware enforcing g, as latchhttp's Auth.Middleware
// does for net/http: through the same code path (latchhttp.Auth.Authenticator),
// with the same answers (latchhttp.Auth.WriteError). A request that passes
// goes on with c.Request() carrying the principal.
//
//	e.GET("/protected", protected, latchecho.Middleware(web, latchhttp.Required()))
//	admin := e.Group("/admin", latchecho.Middleware(web, latchhttp.Required().With(adminOnly)))
//
// A refused request gets latch's answer, written and committed at once so
// that it is the same under any HTTPErrorHandler, and the middleware
// returns an *Error. Like any handler error, it goes back through the
// middleware in front of the guard (echo's RequestLogger, metrics), which
// may log or count it, to e.HTTPErrorHandler: echo's default handler
// leaves the committed answer alone, and ErrorHandler ignores it (it does
// not pass it to its next). See ErrorHandler for errors that handlers
// return.
//
// Like latchhttp's Authenticator, it panics on a guard that cannot work, at setup.
func Middleware(a *latchhttp.Auth, g latchhttp.Guard) echo.MiddlewareFunc {
	gate := a.Authenticator(g)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, err := gate(c.Request())
			if err != nil {
				return WriteError(c, a, err)
			}
			c.SetRequest(r)
			return next(c)
		}
	}
}

// Principal returns the principal the guard authenticated for this
// request; ok is false on an anonymous optional route or a route without
// latch. It is latch.FromContext(c.Request().Context()).
func Principal(c echo.Context) (p *latch.Principal, ok bool) {
	return latch.FromContext(c.Request().Context())
}

// User returns the user latch.WithUserLoader loaded for this request, as
// the type the loader returns; ok is false when there is none or it has
// another type. It is latch.UserFrom[U](c.Request().Context()).
func User[U any](c echo.Context) (u U, ok bool) {
	return latch.UserFrom[U](c.Request().Context())
}

// WriteError writes latch's answer to err (latchhttp.Auth.WriteError:
// status, WWW-Authenticate, body, responders) and returns it as an *Error
// for the handler to return. An error latch did not make is a 500 with a
// generic message; to hand those to echo's error handler instead, return
// them, and install ErrorHandler.
//
// The response is committed when it returns, even if a responder wrote
// nothing (it is then a 200 with latch's headers, as on net/http), so
// that no error handler answers it a second time.
func WriteError(c echo.Context, a *latchhttp.Auth, err error) error {
	return &Error{Err: err, Status: writeError(c, a, err)}
}

// writeError writes latch's answer to err on c's response and returns
// the status it went out with.
func writeError(c echo.Context, a *latchhttp.Auth, err error) int {
	res, sent := c.Response(), 0
	if res.Committed {
		sent = res.Status // answered already: latch's answer is appended, as on net/http
	}
	return echokit.Write(a, res, c.Request(), sent, err)
}

// ErrorHandler returns an echo.HTTPErrorHandler that answers latch's
// errors as latchhttp does and passes every other error to next
// (typically e.DefaultHTTPErrorHandler, or your own):
//
//	e.HTTPErrorHandler = latchecho.ErrorHandler(web, e.DefaultHTTPErrorHandler)
//
// With it, handlers return the errors of latch.Auth.Logout, Sessions and
// the like as they are, and get the answers latchhttp gives (a 404 for
// ErrSessionNotFound, a 503 for ErrUnavailable).
//
//   - An *Error (from the guard or WriteError), wrapped or not, has
//     been answered already: it is left alone, and next does not see it.
//     To log or count refusals here, wrap the handler ErrorHandler
//     returns, or use middleware in front of the guard.
//   - An *echo.HTTPError, wrapped or not, goes to next even when it wraps
//     a latch error: its code was chosen. (echo's default handler reads
//     the code only of an *echo.HTTPError returned as it is; it answers a
//     wrapped one 500.)
//   - Any error once the response is committed goes to next, which, like
//     echo's default handler, must leave the answer alone.
func ErrorHandler(a *latchhttp.Auth, next echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		var he *echo.HTTPError
		switch echokit.Decide(err, errors.As(err, &he), c.Response().Committed) {
		case echokit.PassOn:
			next(err, c)
		case echokit.Answer:
			writeError(c, a, err)
		}
	}
}
