package latch

import "context"

// ctxKey is the unexported key under which adapters store the principal
// they authenticated.
type ctxKey struct{}

// NewContext returns ctx carrying p. The adapters call it for each request
// they let through; tests may too.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal an adapter authenticated for this
// request. ok is false when the request is anonymous (an optional route
// without a token) or did not pass through latch.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	p, _ = ctx.Value(ctxKey{}).(*Principal)
	return p, p != nil
}

// UserFrom returns the user WithUserLoader loaded for this request
// (Principal.User), as the type the loader returns. ok is false when there
// is none or it has another type.
func UserFrom[U any](ctx context.Context) (u U, ok bool) {
	p, _ := FromContext(ctx)
	if p == nil {
		return u, false
	}
	u, ok = p.User.(U)
	return u, ok
}
