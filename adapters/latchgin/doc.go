// Package latchgin guards gin routes with latch, exactly as latch's
// net/http middleware guards net/http ones: the same guards, token
// locations, CSRF check, statuses, WWW-Authenticate headers, bodies and
// responders, because it calls the same code (latch.Auth.Authenticate and
// latch.Auth.WriteError) rather than a copy of it.
//
//	r := gin.New()
//	r.POST("/refresh", latchgin.RefreshHandler(auth))
//	r.GET("/protected", latchgin.Required(auth), func(c *gin.Context) {
//		p, _ := latchgin.Principal(c)
//		c.JSON(http.StatusOK, gin.H{"logged_in_as": p.Subject})
//	})
//	admin := r.Group("/admin", latchgin.Require(auth, adminOnly))
//	admin.GET("/dashboard", dashboard)
//
// Handlers read the caller with Principal and the loaded user with User;
// latch.FromContext(c.Request.Context()) works too. Not
// latch.FromContext(c): a *gin.Context is a context.Context, but its Value
// looks in c.Request's context only when the engine's ContextWithFallback
// is set, so without it ok is always false.
//
// A refused request is answered by latch, its error is recorded with
// c.Error (so gin error middleware sees it without changing the answer)
// and the chain is aborted: handlers after the guard do not run. Handlers
// answer latch's errors the same way with AbortWithError.
package latchgin
