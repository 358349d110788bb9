package latchgin

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Middleware returns gin middleware enforcing g, as latchhttp's Auth.Middleware does
// for net/http: through the same code path (latchhttp.Auth.Authenticator), with the
// same answers (latchhttp.Auth.WriteError). A request that passes goes on
// with c.Request carrying the principal; a refused one gets latch's answer,
// its error is recorded with c.Error for gin's error middleware, and the
// chain is aborted.
//
//	r.GET("/protected", latchgin.Middleware(web, latchhttp.Required()), protected)
//	admin := r.Group("/admin", latchgin.Middleware(web, latchhttp.Required().With(adminOnly)))
//
// Like latchhttp's Authenticator, it panics on a guard that cannot work, at setup.
func Middleware(a *latchhttp.Auth, g latchhttp.Guard) gin.HandlerFunc {
	gate := a.Authenticator(g)
	return func(c *gin.Context) {
		r, err := gate(c.Request)
		if err != nil {
			AbortWithError(c, a, err)
			return
		}
		c.Request = r
	}
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

// AbortWithError answers err as latchhttp does (Auth.WriteError: status,
// WWW-Authenticate, body, responders), records err with c.Error and aborts
// the chain, as gin's c.AbortWithError does with a status of its own. The
// guard uses it for refusals; handlers use it for the errors of
// latch.Auth.Logout, Sessions and the like. An error latch did not make is
// a 500 with a generic message.
//
// If the handler has already written to c.Writer, the answer has begun:
// err is only recorded and the chain aborted, nothing is appended. A nil
// err is a bug in the caller, not a success: it is answered like an error
// latch did not make (500), and c.Errors gets an error saying so rather
// than gin's panic on c.Error(nil).
func AbortWithError(c *gin.Context, a *latchhttp.Auth, err error) {
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
