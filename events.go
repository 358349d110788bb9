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
	EventLoginAs      EventKind = "login_as" // a staff member opened a delegated session (Auth.LoginAs)
	EventStepUp       EventKind = "step_up"  // a session was made fresh again (Auth.StepUp)
	EventRefresh      EventKind = "refresh"
	EventReuse        EventKind = "refresh_reuse" // a spent refresh token came back; its session was revoked
	EventLogout       EventKind = "logout"
	EventRevoke       EventKind = "revoke"        // RevokeSession ended one session of a subject
	EventRevokeAll    EventKind = "revoke_all"    // RevokeAll ended every session of a subject
	EventLogoutOthers EventKind = "logout_others" // LogoutOthers ended the caller's other sessions
	EventFailure      EventKind = "failure"       // a request was refused; Err says why
	EventStoreFailure EventKind = "store_error"   // the store failed or timed out
	// EventThrottle: a failed login used up the free attempts of a
	// throttling bucket (Event.Bucket), which now delays attempts. It
	// carries neither the account typed nor the address.
	EventThrottle EventKind = "throttle"
)

// Event is one auth event. It never carries a token, secret or hash.
type Event struct {
	Kind      EventKind
	Time      time.Time
	Subject   string // when known
	SessionID string // when known
	// Actor: in a delegated session, the staff member acting for Subject.
	Actor *Actor
	// Count: sessions ended by a revoke_all or logout_others.
	Count int
	// Err: for failures, the error; match it with errors.Is against the
	// kinds in errors.go.
	Err error
	// Bucket: for throttle events, the bucket that tripped.
	Bucket Bucket
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
	case e.Kind == EventReuse, e.Kind == EventThrottle:
		level = slog.LevelWarn
	case e.Kind == EventStoreFailure, e.Kind == EventFailure && kindOf(e.Err) == nil:
		level = slog.LevelError // the store failed, or a program error (a 500)
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
	if e.Actor != nil {
		attrs = append(attrs, slog.String("actor", e.Actor.Subject), slog.String("actor_session", e.Actor.SessionID))
	}
	if e.Kind == EventRevokeAll || e.Kind == EventLogoutOthers {
		attrs = append(attrs, slog.Int("count", e.Count))
	}
	if e.Bucket != "" {
		attrs = append(attrs, slog.String("bucket", string(e.Bucket)))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("reason", e.Err.Error()))
	}
	a.log.LogAttrs(ctx, level, "latch: "+string(e.Kind), attrs...)
}

// ReportFailure records a request that an adapter refused before or after
// Authenticate (no token, a CSRF check, a guard's check) as a failure
// event for p (nil when unknown): logged and passed to the event hook,
// like the refusals latch makes itself. An error latch did not make is
// logged at error level; a nil err reports nothing.
func (a *Auth) ReportFailure(ctx context.Context, err error, p *Principal) {
	if err == nil {
		return // nothing was refused
	}
	a.emit(ctx, failure(err, p))
}
