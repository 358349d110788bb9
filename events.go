package latch

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// EventKind names what happened.
type EventKind string

// Event kinds.
const (
	EventLogin        EventKind = "login"
	EventRefresh      EventKind = "refresh"
	EventReuse        EventKind = "refresh_reuse" // a spent refresh token came back; its session was revoked
	EventLogout       EventKind = "logout"
	EventRevoke       EventKind = "revoke"
	EventRevokeAll    EventKind = "revoke_all"
	EventFailure      EventKind = "failure"     // a request was refused; Err says why
	EventStoreFailure EventKind = "store_error" // the store failed or timed out
)

// Event is one auth event. It never carries a token, secret or hash.
type Event struct {
	Kind      EventKind
	Time      time.Time
	Subject   string // when known
	SessionID string // when known
	// Count: sessions ended by a revoke_all.
	Count int
	// Err: for failures, the error; match it with errors.Is against the
	// kinds in errors.go.
	Err error
}

// emit logs e and passes it to the event hook.
func (a *Auth) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	if a.onEvent != nil {
		a.onEvent(ctx, e)
	}
	if a.log == nil {
		return
	}
	level := slog.LevelInfo
	switch {
	case e.Kind == EventFailure && errors.Is(e.Err, ErrNoToken):
		level = slog.LevelDebug // anonymous traffic is not an auth event
	case e.Kind == EventReuse:
		level = slog.LevelWarn
	case e.Kind == EventStoreFailure:
		level = slog.LevelError
	}
	if !a.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("event", string(e.Kind))}
	if e.Subject != "" {
		attrs = append(attrs, slog.String("subject", e.Subject))
	}
	if e.SessionID != "" {
		attrs = append(attrs, slog.String("session", e.SessionID))
	}
	if e.Kind == EventRevokeAll {
		attrs = append(attrs, slog.Int("count", e.Count))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("reason", e.Err.Error()))
	}
	a.log.LogAttrs(ctx, level, "latch: "+string(e.Kind), attrs...)
}
