package latch

import "context"

// ctxKey is the unexported key under which the middleware stores what it
// verified.
type ctxKey struct{}

type ctxValue struct {
	p    *Principal
	user any
}

// NewContext returns ctx carrying p and the loaded user. The middleware
// calls it; adapters and tests may too.
func NewContext(ctx context.Context, p *Principal, user any) context.Context {
	return context.WithValue(ctx, ctxKey{}, &ctxValue{p: p, user: user})
}

// FromContext returns the principal the middleware verified for this
// request. ok is false when the request is anonymous (an optional route
// without a token) or did not pass through latch.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	v, _ := ctx.Value(ctxKey{}).(*ctxValue)
	if v == nil || v.p == nil {
		return nil, false
	}
	return v.p, true
}

// UserFrom returns the user WithUserLoader loaded for this request, as the
// type the loader returns. ok is false when there is none or it has
// another type.
func UserFrom[U any](ctx context.Context) (u U, ok bool) {
	v, _ := ctx.Value(ctxKey{}).(*ctxValue)
	if v == nil {
		return u, false
	}
	u, ok = v.user.(U)
	return u, ok
}
