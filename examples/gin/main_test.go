package main

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// TestWalkthrough plays the scripted walkthrough: every answer must be
// examples/seed's.
func TestWalkthrough(t *testing.T) { walkthroughtest.RunScript(t, walkthroughtest.FromRoutes(routes)) }

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "gin", routes) }

// TestPanicLogsNoToken: a panicking handler is answered as the seed
// answers an internal error, and nothing the request carried is logged,
// even in gin's debug mode, where gin.Recovery would dump the headers.
func TestPanicLogsNoToken(t *testing.T) {
	logs := &walkthroughtest.SyncBuffer{}
	mode, out, errOut := gin.Mode(), gin.DefaultWriter, gin.DefaultErrorWriter
	gin.SetMode(gin.DebugMode)
	gin.DefaultWriter, gin.DefaultErrorWriter = logs, logs
	t.Cleanup(func() { gin.SetMode(mode); gin.DefaultWriter, gin.DefaultErrorWriter = out, errOut })
	status, body := walkthroughtest.PanicLogs(t, "gin", func(app *walkthrough.App) http.Handler {
		r := routes(app).(*gin.Engine)
		r.GET("/panic", func(*gin.Context) { panic("boom") })
		return r
	}, logs)
	if status != http.StatusInternalServerError || body != `{"msg":"Internal error"}`+"\n" {
		t.Errorf("answer %d %q, want 500 {\"msg\":\"Internal error\"}", status, body)
	}
}
