package storekit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
	"github.com/latchauth/latch/store/storekit"
)

// openTest is a store's Open: it succeeds for storekit-test:ok alone.
func openTest(ctx context.Context, rawURL string, opts ...Option) (*memstore.Store, error) {
	if rawURL != "storekit-test:ok" {
		return nil, errors.New("refused")
	}
	return memstore.New(), nil
}

var registerOnce sync.Once // -count=2 runs the test twice in one process

func TestRegister(t *testing.T) {
	registerOnce.Do(func() { storekit.Register(openTest, "storekit-test", "storekit-test+tls") })
	for _, s := range []string{"storekit-test", "storekit-test+tls"} {
		if !slices.Contains(store.Schemes(), s) {
			t.Errorf("scheme %s not registered", s)
		}
	}
	ctx := context.Background()
	s, err := store.Open(ctx, "storekit-test:ok")
	if _, ok := s.(*memstore.Store); err != nil || !ok {
		t.Errorf("store.Open = %T, %v; want the *memstore.Store of openTest", s, err)
	}
	s, err = store.Open(ctx, "storekit-test+tls:other")
	if err == nil || s != nil {
		t.Errorf("store.Open of a refused URL = %#v, %v; want a nil Store and an error", s, err)
	}
}
