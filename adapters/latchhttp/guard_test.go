package latchhttp_test

import (
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// TestInvalidGuardPanicsAtSetup: a Guard that cannot work panics when its
// gate is made, at setup, not on the first request: through Gate (what
// every framework adapter calls) and through Guard.
func TestInvalidGuardPanicsAtSetup(t *testing.T) {
	web := newEnv(t, latch.ModeOpaque, nil).web
	for name, g := range map[string]latchhttp.Guard{
		"type":      {Type: "id_token"},
		"location":  {Locations: []latchhttp.Location{"url"}},
		"nil check": latchhttp.Required.With(adminOnly, nil),
	} {
		for _, via := range []struct {
			name string
			make func(latchhttp.Guard)
		}{
			{"Gate", func(g latchhttp.Guard) { web.Gate(g) }},
			{"Guard", func(g latchhttp.Guard) { web.Guard(g) }},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s accepted a Guard with a bad %s", via.name, name)
					}
				}()
				via.make(g)
			}()
		}
	}
}
