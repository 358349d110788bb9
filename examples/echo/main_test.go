package main

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// TestWalkthrough plays the scripted walkthrough: every answer must be
// examples/seed's.
func TestWalkthrough(t *testing.T) { walkthroughtest.RunScript(t, walkthroughtest.FromRoutes(routes)) }

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "echo", routes) }

// TestPanicLogsNoToken: the example uses no Recover middleware, so a
// panicking handler reaches net/http's server, which drops the connection
// and logs the panic without the request (as the seed's does); nothing the
// request carried is logged.
func TestPanicLogsNoToken(t *testing.T) {
	logs := &walkthroughtest.SyncBuffer{}
	status, _ := walkthroughtest.PanicLogs(t, "echo", func(app *walkthrough.App) http.Handler {
		e := routes(app).(*echo.Echo)
		e.GET("/panic", func(*echo.Context) error { panic("boom") })
		return e
	}, logs)
	if status != 0 {
		t.Errorf("answer %d, want the connection dropped", status)
	}
}
