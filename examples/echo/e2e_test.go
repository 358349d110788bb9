package main

import (
	"testing"

	"github.com/latchauth/latch/examples/internal/e2e"
)

// TestE2E runs the end-to-end suite (examples/internal/e2e) on this
// example's routes: the answers, and the attacks refused, must be the
// seed's. The stores and outage suites run on the seed alone: they test
// the stores, which every framework reaches through the same latch.
func TestE2E(t *testing.T) { e2e.Run(t, routes) }
