package main

import (
	"testing"

	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// TestWalkthrough plays the scripted walkthrough: every answer must be
// examples/seed's.
func TestWalkthrough(t *testing.T) { walkthroughtest.RunScript(t, walkthroughtest.FromRoutes(routes)) }

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "echo", routes) }
