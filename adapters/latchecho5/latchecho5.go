package latchecho5

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
)

// Error is what the middleware returns for a refused request, after
// writing latch's answer: Err is latch's error (errors.Is matches its
// kind through Unwrap), Status the status of the answer written, which
// StatusCode reports to echo (echo.StatusCode).
type Error struct {
	Err    error
	Status int
}

var _ echo.HTTPStatusCoder = (*Error)(nil)

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// StatusCode is Status: the status latch answered with.
func (e *Error) StatusCode() int { return e.Status }

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
		return func(c *echo.Context) error {
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
func Principal(c *echo.Context) (p *latch.Principal, ok bool) {
	return latch.FromContext(c.Request().Context())
}

// User returns the user latch.WithUserLoader loaded for this request, as
// the type the loader returns; ok is false when there is none or it has
// another type. It is latch.UserFrom[U](c.Request().Context()).
func User[U any](c *echo.Context) (u U, ok bool) {
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
// that no error handler answers it a second time. Responders write to
// c.Response() through a wrapper that notes the status; it is an
// http.Flusher and an http.Hijacker, and unwraps for
// http.NewResponseController.
//
// After the handler has answered already, Status is the status echo's
// Response reports. On a HEAD request served by RouterConfig's
// AutoHandleHEAD, echo holds the handler's status back until the route
// returns, so Status may then say 200 while the client gets the
// handler's status.
func WriteError(c *echo.Context, a *latch.Auth, err error) error {
	return &Error{Err: err, Status: writeError(c, a, err)}
}

// writeError writes latch's answer to err on c's response and returns
// the status it went out with.
func writeError(c *echo.Context, a *latch.Auth, err error) int {
	w := &statusWriter{ResponseWriter: c.Response()}
	if res, uerr := echo.UnwrapResponse(w.ResponseWriter); uerr == nil && res.Committed {
		w.status = res.Status // answered already: latch's answer is appended, as on net/http
	}
	a.WriteError(w, c.Request(), err)
	if w.status == 0 {
		w.WriteHeader(http.StatusOK) // what net/http sends for a handler that wrote nothing
	}
	return w.status
}

// statusWriter notes the status written through it. It does not rely on
// echo's Response for that: a writer in between (AutoHandleHEAD's, a
// middleware's) may hold the status back, and one that does not unwrap to
// *echo.Response hides it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.NewResponseController and echo.UnwrapResponse reach
// the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush, FlushError and Hijack make the writer an http.Flusher and an
// http.Hijacker, as net/http's own writer and echo's Response are, for
// responders that assert those interfaces; they go to the writer
// underneath. A flush before any status sends 200, as on net/http.
func (w *statusWriter) Flush() { _ = w.FlushError() }

func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// committed reports whether c's response has been sent, as echo's own
// error handler finds out: through echo.UnwrapResponse. A writer that does
// not unwrap to *echo.Response counts as not sent.
func committed(c *echo.Context) bool {
	res, err := echo.UnwrapResponse(c.Response())
	return err == nil && res.Committed
}

// ErrorHandler returns an echo.HTTPErrorHandler that answers latch's
// errors as latch does and passes every other error to next (typically
// echo's default handler, or your own):
//
//	e.HTTPErrorHandler = latchecho5.ErrorHandler(auth, echo.DefaultHTTPErrorHandler(false))
//
// With it, handlers return the errors of Auth.Logout, Auth.Sessions and
// the like as they are, and get the answers the net/http middleware gives
// (a 404 for ErrSessionNotFound, a 503 for ErrUnavailable).
//
//   - An *Error (from the middleware or WriteError), wrapped or not, has
//     been answered already: it is left alone, and next does not see it.
//     To log or count refusals here, wrap the handler ErrorHandler
//     returns, or use middleware in front of the guard.
//   - An error carrying an echo status (an echo.HTTPStatusCoder: an
//     *echo.HTTPError, echo.ErrNotFound and the other predefined errors,
//     or your own), wrapped or not, goes to next even when it wraps a
//     latch error: its code was chosen. (echo v5's default handler finds
//     the code of a wrapped one too.)
//   - Any error once the response is committed goes to next, which, like
//     echo's default handler, must leave the answer alone. Committed is
//     what echo.UnwrapResponse(c.Response()) says, as for echo's default
//     handler.
func ErrorHandler(a *latch.Auth, next echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		var le *Error
		var sc echo.HTTPStatusCoder
		switch {
		case errors.As(err, &le): // answered already
		case errors.As(err, &sc), latch.Kind(err) == nil, committed(c):
			next(c, err)
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
