package walkthrough

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
	"github.com/latchauth/latch/adapters/latchhttp"
)

// defaultAddr is the listening address when LATCH_ADDR is unset: loopback
// only, since a development server should not be reachable from the LAN.
const defaultAddr = "127.0.0.1:8080"

// shutdownTimeout bounds how long in-flight requests may finish after
// SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

// Settings are the example's own environment variables; latch's are read
// by latch.ConfigFromEnv and latchhttp.ConfigFromEnv.
type Settings struct {
	Addr    string // LATCH_ADDR, default 127.0.0.1:8080
	DataDir string // LATCH_DATA_DIR, "" for the default latch-data
}

// SettingsFrom reads the settings through getenv.
func SettingsFrom(getenv func(string) string) Settings {
	s := Settings{Addr: getenv("LATCH_ADDR"), DataDir: getenv("LATCH_DATA_DIR")}
	if s.Addr == "" {
		s.Addr = defaultAddr
	}
	return s
}

// Serve is an example's main: it starts the server from the environment
// (see Start), logging to stderr, and serves until SIGINT or SIGTERM. The
// signal ends the startup too, when the store is slow to open. A second
// signal kills at once.
func Serve(name string, routes func(*App) http.Handler) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	s, err := Start(ctx, name, logger, routes)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Server is the app listening on a socket.
type Server struct {
	App      *App
	Listener net.Listener
	HTTP     *http.Server
	log      *slog.Logger
	name     string
}

// Start builds the app from the environment, serves routes(app) on a
// listening socket and prints the startup line "<name>: listening".
// Configuration errors come back as they are, with latch's advice (for a
// weak secret: openssl rand -base64 32). ctx bounds the startup: once it
// is done, a store still being opened gives up, and Start says it was
// interrupted.
func Start(ctx context.Context, name string, logger *slog.Logger, routes func(*App) http.Handler) (*Server, error) {
	set := SettingsFrom(os.Getenv)
	cfg, err := latch.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	httpCfg, err := latchhttp.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	a, err := New(ctx, cfg, httpCfg, set.DataDir, latch.WithLogger(logger))
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted while starting: %w", err)
	}
	if err != nil {
		return nil, err
	}
	a.Log = logger
	ln, err := net.Listen("tcp", set.Addr)
	if err != nil {
		a.Close()
		return nil, err
	}
	s := &Server{App: a, Listener: ln, HTTP: NewHTTPServer(routes(a), logger), log: logger, name: name}
	s.logStart()
	return s, nil
}

// NewHTTPServer wraps h with timeouts that keep slow or idle clients from
// holding connections, and a header limit with room for cookies carrying
// a JWT pair. It is the server Start runs, exported so that tests serve
// the routes under the very same limits.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
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
func (s *Server) logStart() {
	cfg := s.App.Auth.Config()
	attrs := []any{
		"mode", cfg.Mode,
		"addr", "http://" + s.Listener.Addr().String(),
		"store", StoreScheme(string(cfg.Store)),
	}
	attrs = append(attrs, "session_key", s.App.SessionKeySource)
	if s.App.KeySource != "" {
		attrs = append(attrs, "jwt_key", s.App.KeySource)
	}
	s.log.Info(s.name+": listening", attrs...)
}

// Run serves until ctx is done, then lets in-flight requests finish (at
// most 10s) and closes the app.
func (s *Server) Run(ctx context.Context) error {
	defer s.App.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.HTTP.Serve(s.Listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info(s.name + ": shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.HTTP.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
