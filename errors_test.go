package latch_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/latchauth/latch"
)

func TestKind(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"nil", nil, nil},
		{"foreign", errors.New("app: boom"), nil},
		{"sentinel", latch.ErrNoToken, latch.ErrNoToken},
		{"refined", latch.ErrTokenExpired, latch.ErrTokenExpired},
		{"wrapped", fmt.Errorf("%w: empty header", latch.ErrMalformedToken), latch.ErrMalformedToken},
		{"joined", errors.Join(latch.ErrUnavailable, errors.New("store: down")), latch.ErrUnavailable},
		{"forbidden message", latch.Forbidden("Admins only!"), latch.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := latch.Kind(c.err)
			if got != c.want {
				t.Errorf("Kind(%v) = %v, want %v", c.err, got, c.want)
			}
			if c.want == nil && got != nil {
				t.Errorf("Kind(%v) is a non-nil error", c.err)
			}
		})
	}
}
