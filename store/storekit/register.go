package storekit

import (
	"context"

	"github.com/latchauth/latch/store"
)

// Register makes open, a store's Open, the opener of each scheme with
// store.Register, so that store.Open(ctx, rawURL) runs open(ctx, rawURL)
// for a URL of those schemes: an application then picks its store with a
// setting such as LATCH_STORE. Call it from the store package's init. A
// failed open's result never reaches store.Open as a non-nil Store. It
// panics as store.Register does.
func Register[S store.Store, O any](open func(ctx context.Context, rawURL string, opts ...O) (S, error), schemes ...string) {
	opener := func(ctx context.Context, rawURL string) (store.Store, error) {
		s, err := open(ctx, rawURL)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	for _, scheme := range schemes {
		store.Register(scheme, opener)
	}
}
