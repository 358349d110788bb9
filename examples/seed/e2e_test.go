package main

import (
	"testing"

	"github.com/latchauth/latch/examples/internal/e2e"
)

// The end-to-end suite (examples/internal/e2e) on the seed's routes: the
// routes and the attacks on them, sessions across restarts on every
// store, and every networked store going away and coming back.

func TestE2E(t *testing.T) { e2e.Run(t, routes) }

func TestE2EStores(t *testing.T) { e2e.RunStores(t, routes) }

func TestE2EOutage(t *testing.T) { e2e.RunOutage(t, routes) }

// BenchmarkAttackRejectDots: refusing garbage tokens costs what refusing
// a short one does (e2e.BenchmarkRejectDots).
//
//	go test -run '^$' -bench AttackRejectDots ./examples/seed/
func BenchmarkAttackRejectDots(b *testing.B) { e2e.BenchmarkRejectDots(b, routes) }
