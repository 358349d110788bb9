package latchecho

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/latchauth/latch"
)

// Error is what the middleware returns for a refused request, after
// writing latch's answer: Err is latch's error (errors.Is matches its
// kind through Unwrap), Status the status of the answer written.
type Error struct {
	Err    error
	Status int
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Middleware returns echo middleware enforcing g, as
// (*latch.Auth).Middleware does for net/http: on the same code path
// (Auth.Authenticate), with the same answers (Auth.WriteError). A request
// that passes goes on with c.Request() carrying the principal and the
// loaded user.
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
// Like the net/http middleware, it panics on a Guard that cannot work (an
// unknown type or location), at setup rather than on the first request.
func Middleware(a *latch.Auth, g latch.Guard) echo.MiddlewareFunc {
	a.Middleware(g) // validates g, panicking as the net/http middleware does
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, err := a.Authenticate(c.Request(), g)
			if err != nil {
				return WriteError(c, a, err)
			}
			c.SetRequest(r)
			return next(c)
		}
	}
}

// Required lets a request through only with a valid access token.
func Required(a *latch.Auth) echo.MiddlewareFunc { return Middleware(a, latch.Guard{}) }

// Optional lets a request through without a token, anonymously, but
// refuses one with an invalid token.
func Optional(a *latch.Auth) echo.MiddlewareFunc { return Middleware(a, latch.Guard{Optional: true}) }

// FreshRequired lets a request through only with a fresh access token.
func FreshRequired(a *latch.Auth) echo.MiddlewareFunc {
	return Middleware(a, latch.Guard{Fresh: true})
}

// RefreshRequired lets a request through only with a valid refresh token;
// it does not spend it (see RefreshHandler).
func RefreshRequired(a *latch.Auth) echo.MiddlewareFunc {
	return Middleware(a, latch.Guard{Type: latch.Refresh})
}

// SessionRequired lets a request through only with a valid access token
// whose session the store confirms is live, whatever the mode: for routes
// that list or revoke sessions.
func SessionRequired(a *latch.Auth) echo.MiddlewareFunc {
	return Middleware(a, latch.Guard{CheckSession: true})
}

// Require lets a request through with a valid access token that passes
// every check. A check gets c.Request(), carrying the principal.
func Require(a *latch.Auth, checks ...latch.Check) echo.MiddlewareFunc {
	return Middleware(a, latch.Guard{Checks: checks})
}

// Principal returns the principal the middleware verified for this
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

// WriteError writes latch's answer to err (Auth.WriteError: status,
// WWW-Authenticate, body, responders) and returns it as an *Error for the
// handler to return. An error latch did not make is a 500 with a generic
// message; to hand those to echo's error handler instead, return them, and
// install ErrorHandler.
//
// The response is committed when it returns, even if a responder wrote
// nothing (it is then a 200 with latch's headers, as on net/http), so
// that no error handler answers it a second time.
func WriteError(c echo.Context, a *latch.Auth, err error) error {
	writeError(c, a, err)
	return &Error{Err: err, Status: c.Response().Status}
}

func writeError(c echo.Context, a *latch.Auth, err error) {
	res := c.Response()
	a.WriteError(res, c.Request(), err)
	if !res.Committed {
		res.WriteHeader(http.StatusOK) // what net/http sends for a handler that wrote nothing
	}
}

// ErrorHandler returns an echo.HTTPErrorHandler that answers latch's
// errors as latch does and passes every other error to next (typically
// e.DefaultHTTPErrorHandler, or your own):
//
//	e.HTTPErrorHandler = latchecho.ErrorHandler(auth, e.DefaultHTTPErrorHandler)
//
// With it, handlers return the errors of Auth.Logout, Auth.Sessions and
// the like as they are, and get the answers the net/http middleware gives
// (a 404 for ErrSessionNotFound, a 503 for ErrUnavailable).
//
//   - An *Error (from the middleware or WriteError), wrapped or not, has
//     been answered already: it is left alone, and next does not see it.
//     To log or count refusals here, wrap the handler ErrorHandler
//     returns, or use middleware in front of the guard.
//   - An *echo.HTTPError, wrapped or not, goes to next even when it wraps
//     a latch error: its code was chosen. (echo's default handler reads
//     the code only of an *echo.HTTPError returned as it is; it answers a
//     wrapped one 500.)
//   - Any error once the response is committed goes to next, which, like
//     echo's default handler, must leave the answer alone.
func ErrorHandler(a *latch.Auth, next echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		var le *Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &le): // answered already
		case errors.As(err, &he), latch.Kind(err) == nil, c.Response().Committed:
			next(err, c)
		default:
			writeError(c, a, err)
		}
	}
}

// RefreshHandler serves latch's refresh endpoint (Auth.RefreshHandler):
// mount it on a POST route.
func RefreshHandler(a *latch.Auth) echo.HandlerFunc { return echo.WrapHandler(a.RefreshHandler()) }

// RevocationHandler serves latch's RFC 7009 revocation endpoint
// (Auth.RevocationHandler): mount it on a POST route.
func RevocationHandler(a *latch.Auth) echo.HandlerFunc {
	return echo.WrapHandler(a.RevocationHandler())
}

// IntrospectionHandler serves latch's RFC 7662 introspection endpoint
// (Auth.IntrospectionHandler) to the callers authorize lets through, such
// as latch.BasicClient: mount it on a POST route.
func IntrospectionHandler(a *latch.Auth, authorize func(*http.Request) error) echo.HandlerFunc {
	return echo.WrapHandler(a.IntrospectionHandler(authorize))
}
