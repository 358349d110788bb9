// Command seed is the flask-jwt-extended walkthrough that latch began with,
// ported to Go: the same routes and answers, with per-device sessions and
// opaque, JWT or hybrid tokens chosen by LATCH_MODE.
//
//	go run ./examples/seed
//
// It reads latch's configuration from the LATCH_* environment variables
// (see latch.ConfigFromEnv) and, besides them:
//
//	LATCH_ADDR      address to listen on (default 127.0.0.1:8080)
//	LATCH_DATA_DIR  where the sessions (an SQLite file, unless LATCH_STORE
//	                names another store) and the generated JWT secret are
//	                kept (default latch-data in the working directory,
//	                created 0700)
//
// See README.md for a curl session.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/latchauth/latch"
	_ "github.com/latchauth/latch/store/sqlstore" // registers sqlite:, postgres://, mysql://
)

// defaultAddr is the listening address when LATCH_ADDR is unset: loopback
// only, since a development server should not be reachable from the LAN.
const defaultAddr = "127.0.0.1:8080"

// shutdownTimeout bounds how long in-flight requests may finish after
// SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills at once
	s, err := start(logger)
	if err == nil {
		err = s.run(ctx)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n", err)
		os.Exit(1)
	}
}

// settings are the example's own environment variables; latch's are read
// by latch.ConfigFromEnv.
type settings struct {
	addr    string
	dataDir string
}

// settingsFrom reads the settings through getenv.
func settingsFrom(getenv func(string) string) settings {
	s := settings{addr: getenv("LATCH_ADDR"), dataDir: getenv("LATCH_DATA_DIR")}
	if s.addr == "" {
		s.addr = defaultAddr
	}
	return s // an empty dataDir is the default one, see newDataDir
}

// server is the app listening on a socket.
type server struct {
	app  *app
	ln   net.Listener
	http *http.Server
	log  *slog.Logger
}

// start builds the app from the environment, opens the listening socket
// and prints the startup line. Configuration errors come back as they are,
// with latch's advice (for a weak secret: openssl rand -base64 32).
func start(logger *slog.Logger) (*server, error) {
	set := settingsFrom(os.Getenv)
	cfg, err := latch.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	a, err := newApp(cfg, set.dataDir, latch.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", set.addr)
	if err != nil {
		a.Close()
		return nil, err
	}
	s := &server{app: a, ln: ln, http: newHTTPServer(a, logger), log: logger}
	s.logStart()
	return s, nil
}

// newHTTPServer wraps h with timeouts that keep slow or idle clients from
// holding connections, and a header limit with room for cookies carrying
// a JWT pair.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// logStart prints the one startup line: mode, address, store scheme and,
// in JWT modes, where the key came from. Never a secret or a store URL,
// which may hold a password.
func (s *server) logStart() {
	cfg := s.app.auth.Config()
	attrs := []any{
		"mode", cfg.Mode,
		"addr", "http://" + s.ln.Addr().String(),
		"store", storeScheme(string(cfg.Store)),
	}
	if s.app.keySource != "" {
		attrs = append(attrs, "jwt_key", s.app.keySource)
	}
	s.log.Info("seed: listening", attrs...)
}

// run serves until ctx is done, then lets in-flight requests finish
// (at most shutdownTimeout) and closes the app.
func (s *server) run(ctx context.Context) error {
	defer s.app.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("seed: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
