// Package latchgin guards gin routes with latch, exactly as latchhttp
// guards net/http ones: the same guards, token locations, CSRF check,
// statuses, WWW-Authenticate headers, bodies and responders, because it
// runs the same code (latchhttp.Auth.Authenticator and latchhttp.Auth.WriteError)
// rather than a copy of it. It adds only what gin needs: a gin.HandlerFunc,
// c.Error and c.Abort, and getters that read c.Request.
//
//	web, err := latchhttp.New(auth, latchhttp.Config{})
//	...
//	r := gin.New()
//	r.POST("/refresh", gin.WrapH(web.RefreshHandler()))
//	r.GET("/protected", latchgin.Middleware(web, latchhttp.Required()), func(c *gin.Context) {
//		p, _ := latchgin.Principal(c)
//		c.JSON(http.StatusOK, gin.H{"logged_in_as": p.Subject})
//	})
//	admin := r.Group("/admin", latchgin.Middleware(web, latchhttp.Required().With(adminOnly)))
//	admin.GET("/dashboard", dashboard)
//
// Handlers read the caller with Principal and the loaded user with User;
// latch.FromContext(c.Request.Context()) works too. Not
// latch.FromContext(c): a *gin.Context is a context.Context, but its Value
// looks in c.Request's context only when the engine's ContextWithFallback
// is set, so without it ok is always false.
//
// A refused request is answered by latchhttp, its error is recorded with
// c.Error (so gin error middleware sees it without changing the answer)
// and the chain is aborted: handlers after the guard do not run. Handlers
// answer latch's errors the same way with AbortWithError. latchhttp's
// endpoints (refresh, revocation, introspection, JWKS) are http.Handlers:
// mount them with gin.WrapH.
package latchgin
