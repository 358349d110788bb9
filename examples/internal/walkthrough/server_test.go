package walkthrough

import (
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	s := SettingsFrom(func(string) string { return "" })
	if s.Addr != "127.0.0.1:8080" || newDataDir(s.DataDir) != "latch-data" {
		t.Errorf("defaults: %+v", s)
	}
	env := map[string]string{"LATCH_ADDR": ":9000", "LATCH_DATA_DIR": "/tmp/x"}
	if s := SettingsFrom(func(k string) string { return env[k] }); s.Addr != ":9000" || s.DataDir != "/tmp/x" {
		t.Errorf("from the environment: %+v", s)
	}
}

// TestHTTPServerLimits checks that no server limit is left at its
// unbounded default.
func TestHTTPServerLimits(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": s.ReadHeaderTimeout, "ReadTimeout": s.ReadTimeout,
		"WriteTimeout": s.WriteTimeout, "IdleTimeout": s.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v", name, d)
		}
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", s.MaxHeaderBytes)
	}
}
