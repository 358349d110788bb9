package latchgin

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
)

// Middleware returns gin middleware enforcing g, as (*latch.Auth).Middleware
// does for net/http: on the same code path (Auth.Authenticate), with the
// same answers (Auth.WriteError). A request that passes goes on with
// c.Request carrying the principal and the loaded user; a refused one gets
// latch's answer, its error is recorded with c.Error for gin's error
// middleware, and the chain is aborted.
//
// Like the net/http middleware, it panics on a Guard that cannot work (an
// unknown type or location), at setup rather than on the first request.
func Middleware(a *latch.Auth, g latch.Guard) gin.HandlerFunc {
	a.Middleware(g) // validates g, panicking as the net/http middleware does
	return func(c *gin.Context) {
		r, err := a.Authenticate(c.Request, g)
		if err != nil {
			AbortWithError(c, a, err)
			return
		}
		c.Request = r
	}
}

// Required lets a request through only with a valid access token.
func Required(a *latch.Auth) gin.HandlerFunc { return Middleware(a, latch.Guard{}) }

// Optional lets a request through without a token, anonymously, but
// refuses one with an invalid token.
func Optional(a *latch.Auth) gin.HandlerFunc { return Middleware(a, latch.Guard{Optional: true}) }

// FreshRequired lets a request through only with a fresh access token.
func FreshRequired(a *latch.Auth) gin.HandlerFunc { return Middleware(a, latch.Guard{Fresh: true}) }

// RefreshRequired lets a request through only with a valid refresh token;
// it does not spend it (see RefreshHandler).
func RefreshRequired(a *latch.Auth) gin.HandlerFunc {
	return Middleware(a, latch.Guard{Type: latch.Refresh})
}

// SessionRequired lets a request through only with a valid access token
// whose session the store confirms is live, whatever the mode: for routes
// that list or revoke sessions.
func SessionRequired(a *latch.Auth) gin.HandlerFunc {
	return Middleware(a, latch.Guard{CheckSession: true})
}

// Require lets a request through with a valid access token that passes
// every check. A check gets c.Request, carrying the principal.
func Require(a *latch.Auth, checks ...latch.Check) gin.HandlerFunc {
	return Middleware(a, latch.Guard{Checks: checks})
}

// Principal returns the principal the middleware verified for this
// request; ok is false on an anonymous optional route or a route without
// latch. It is latch.FromContext(c.Request.Context()); latch.FromContext(c)
// finds nothing unless the engine's ContextWithFallback is set.
func Principal(c *gin.Context) (p *latch.Principal, ok bool) {
	return latch.FromContext(c.Request.Context())
}

// User returns the user latch.WithUserLoader loaded for this request, as
// the type the loader returns; ok is false when there is none or it has
// another type. It is latch.UserFrom[U](c.Request.Context()).
func User[U any](c *gin.Context) (u U, ok bool) {
	return latch.UserFrom[U](c.Request.Context())
}

// AbortWithError answers err as latch does (Auth.WriteError: status,
// WWW-Authenticate, body, responders), records err with c.Error and aborts
// the chain, as gin's c.AbortWithError does with a status of its own. The
// middleware uses it for refusals; handlers use it for the errors of
// Auth.Logout, Auth.Sessions and the like. An error latch did not make is
// a 500 with a generic message.
//
// If the handler has already written to c.Writer, the answer has begun:
// err is only recorded and the chain aborted, nothing is appended. A nil
// err is a bug in the caller, not a success: it is answered like an error
// latch did not make (500), and c.Errors gets an error saying so rather
// than gin's panic on c.Error(nil).
func AbortWithError(c *gin.Context, a *latch.Auth, err error) {
	if err == nil {
		err = errNilError
	}
	if !c.Writer.Written() {
		a.WriteError(headerAtStatus{c.Writer}, c.Request, err)
	}
	c.Error(err)
	c.Abort()
}

// errNilError is what AbortWithError records when it is given nil.
var errNilError = errors.New("latchgin: AbortWithError called with a nil error")

// headerAtStatus sends the headers when the status is written, as
// net/http does. gin's writer delays them to the first Write, so a
// responder that set a header after WriteHeader would send it on gin and
// not on net/http.
type headerAtStatus struct{ gin.ResponseWriter }

func (w headerAtStatus) WriteHeader(status int) {
	w.ResponseWriter.WriteHeader(status)
	w.ResponseWriter.WriteHeaderNow()
}

// RefreshHandler serves latch's refresh endpoint (Auth.RefreshHandler):
// mount it on a POST route.
func RefreshHandler(a *latch.Auth) gin.HandlerFunc { return gin.WrapH(a.RefreshHandler()) }

// RevocationHandler serves latch's RFC 7009 revocation endpoint
// (Auth.RevocationHandler): mount it on a POST route.
func RevocationHandler(a *latch.Auth) gin.HandlerFunc { return gin.WrapH(a.RevocationHandler()) }

// IntrospectionHandler serves latch's RFC 7662 introspection endpoint
// (Auth.IntrospectionHandler) to the callers authorize lets through, such
// as latch.BasicClient: mount it on a POST route.
func IntrospectionHandler(a *latch.Auth, authorize func(*http.Request) error) gin.HandlerFunc {
	return gin.WrapH(a.IntrospectionHandler(authorize))
}
