package walkthrough_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// refusedStart starts the app from env (on top of a clean environment, a
// free port and a fresh data directory), fails t if it starts, and fails
// it if the refusal left the data directory behind. It returns the error
// Start gave.
func refusedStart(t *testing.T, env map[string]string) error {
	t.Helper()
	walkthroughtest.ClearLatchEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("LATCH_ADDR", "127.0.0.1:0")
	t.Setenv("LATCH_DATA_DIR", dir)
	for k, v := range env {
		t.Setenv(k, v)
	}
	s, err := walkthrough.Start(context.Background(), "test", slog.New(slog.DiscardHandler), func(*walkthrough.App) http.Handler { return http.NotFoundHandler() })
	if err == nil {
		s.Listener.Close()
		s.App.Close()
		t.Fatalf("started with %v", env)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory was created (%v)", err)
	}
	return err
}

// TestStartRefusesWeakSecret starts from the environment with the
// tutorial's secret: refused in every mode, with advice, without showing
// the secret, and without writing anything.
func TestStartRefusesWeakSecret(t *testing.T) {
	for _, mode := range []string{"jwt", "hybrid", "opaque"} {
		t.Run(mode, func(t *testing.T) {
			err := refusedStart(t, map[string]string{"LATCH_MODE": mode, "LATCH_JWT_SECRET": "super-secret"})
			if !strings.Contains(err.Error(), "openssl rand -base64 32") {
				t.Errorf("error %q does not say how to make a secret", err)
			}
			if strings.Contains(err.Error(), "super-secret") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

// TestStartRefusesBadHTTPSetting starts with a token location that does
// not exist: refused, naming it, before the data directory or the store
// is made.
func TestStartRefusesBadHTTPSetting(t *testing.T) {
	err := refusedStart(t, map[string]string{"LATCH_TOKEN_LOCATION": "header,url"})
	if !strings.Contains(err.Error(), `"url"`) {
		t.Errorf("error %q does not name the location", err)
	}
}

// TestStartNamesTheStoresTag: a store URL whose store the program does not
// link is refused with the build tag that links it, and nothing written.
func TestStartNamesTheStoresTag(t *testing.T) {
	err := refusedStart(t, map[string]string{"LATCH_STORE": "redis://:hunter2@127.0.0.1:1/0"})
	if msg := err.Error(); !strings.Contains(msg, `scheme "redis"`) || !strings.Contains(msg, "-tags stores") || strings.Contains(msg, "hunter2") {
		t.Errorf("error %q: want the scheme and -tags stores, without the password", msg)
	}
}
