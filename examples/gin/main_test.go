package main

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// TestWalkthrough plays the scripted walkthrough: every answer must be
// examples/seed's.
func TestWalkthrough(t *testing.T) {
	walkthroughtest.RunScript(t, func(cfg latch.Config, dir string, opts ...latch.Option) (walkthroughtest.Target, error) {
		app, err := walkthrough.New(cfg, dir, opts...)
		if err != nil {
			return walkthroughtest.Target{}, err
		}
		return walkthroughtest.Target{Handler: routes(app), RemoveUser: app.Users.Remove, Close: app.Close}, nil
	})
}

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "gin", routes) }
