package latch_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

// lastLine returns the last line of e's log that holds every one of subs,
// or "".
func lastLine(e *env, subs ...string) string {
	lines := strings.Split(e.Logs.String(), "\n")
	for _, l := range slices.Backward(lines) {
		if !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(l, s) }) {
			return l
		}
	}
	return ""
}

// TestSessionEndEvents: each way of ending sessions reports its own event
// kind, naming the subject, the session where there is one, and the
// number ended where there can be several, in the event and in the log:
// Logout "logout", LogoutOthers "logout_others" (not "revoke_all"),
// RevokeSession "revoke", RevokeAll "revoke_all", and RevokeToken the
// logout of the token's session.
func TestSessionEndEvents(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			login := func(label string) (*latch.Tokens, *latch.Principal) {
				tk := e.Login(t, users["1"], label)
				p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
				if err != nil {
					t.Fatal(err)
				}
				return tk, p
			}
			// only returns the one event of the call, which must be of kind k.
			only := func(what string, k latch.EventKind) latch.Event {
				t.Helper()
				evs := e.Events()
				if len(evs) != 1 || evs[0].Kind != k {
					t.Fatalf("%s: events %+v, want one %s", what, evs, k)
				}
				if evs[0].Time.IsZero() || evs[0].Err != nil || evs[0].Subject != "1" {
					t.Errorf("%s: event %+v, want a time, subject 1 and no error", what, evs[0])
				}
				return evs[0]
			}
			a, pa := login("a")
			_, pb := login("b")
			login("c")
			tk, _ := login("d")
			_, pe := login("e")

			e.ClearEvents()
			if err := e.Auth.Logout(bg, pa); err != nil {
				t.Fatal(err)
			}
			if ev := only("Logout", latch.EventLogout); ev.SessionID != a.SessionID {
				t.Errorf("Logout: event for session %q, want %q", ev.SessionID, a.SessionID)
			}

			e.ClearEvents()
			if err := e.Auth.RevokeToken(bg, tk.RefreshToken); err != nil {
				t.Fatal(err)
			}
			if ev := only("RevokeToken", latch.EventLogout); ev.SessionID != tk.SessionID {
				t.Errorf("RevokeToken: event for session %q, want %q", ev.SessionID, tk.SessionID)
			}

			e.ClearEvents()
			if err := e.Auth.RevokeSession(bg, "1", pe.SessionID); err != nil {
				t.Fatal(err)
			}
			if ev := only("RevokeSession", latch.EventRevoke); ev.SessionID != pe.SessionID {
				t.Errorf("RevokeSession: event for session %q, want %q", ev.SessionID, pe.SessionID)
			}

			// b and c are left: from b, one other ends.
			e.ClearEvents()
			if n, err := e.Auth.LogoutOthers(bg, pb); err != nil || n != 1 {
				t.Fatalf("LogoutOthers = %d, %v; want 1", n, err)
			}
			if ev := only("LogoutOthers", latch.EventLogoutOthers); ev.SessionID != pb.SessionID || ev.Count != 1 {
				t.Errorf("LogoutOthers: event %+v, want session %s and count 1", ev, pb.SessionID)
			}
			if l := lastLine(e, "event=logout_others"); !strings.Contains(l, "subject=1") || !strings.Contains(l, "session="+pb.SessionID) || !strings.Contains(l, "count=1") {
				t.Errorf("LogoutOthers: log line %q", l)
			}

			login("f")
			e.ClearEvents()
			if n, err := e.Auth.RevokeAll(bg, "1"); err != nil || n != 2 {
				t.Fatalf("RevokeAll = %d, %v; want 2", n, err)
			}
			if ev := only("RevokeAll", latch.EventRevokeAll); ev.SessionID != "" || ev.Count != 2 {
				t.Errorf("RevokeAll: event %+v, want no session and count 2", ev)
			}
			if l := lastLine(e, "event=revoke_all"); !strings.Contains(l, "level=INFO") || !strings.Contains(l, "count=2") {
				t.Errorf("RevokeAll: log line %q", l)
			}
		})
	}
}

// TestReportFailure: an adapter's refusal is reported like latch's own:
// a failure event naming the principal when there is one, logged at info
// level, at debug level for a missing token (anonymous traffic), and at
// error level for an error latch did not make (a bug, answered 500).
func TestReportFailure(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
	if err != nil {
		t.Fatal(err)
	}
	errApp := errors.New("app: template missing")
	for _, c := range []struct {
		name  string
		err   error
		p     *latch.Principal
		level string
	}{
		{"a guard's refusal", latch.Forbidden("Admins only!"), p, "INFO"},
		{"a CSRF failure, before any principal", latch.ErrCSRF, nil, "INFO"},
		{"no token", latch.ErrNoToken, nil, "DEBUG"},
		{"an error latch did not make", errApp, p, "ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.ClearEvents()
			e.Auth.ReportFailure(bg, c.err, c.p)
			evs := e.Events()
			if len(evs) != 1 || evs[0].Kind != latch.EventFailure || !errors.Is(evs[0].Err, c.err) || evs[0].Time.IsZero() {
				t.Fatalf("events %+v, want one failure with %v", evs, c.err)
			}
			wantSub, wantSID := "", ""
			if c.p != nil {
				wantSub, wantSID = c.p.Subject, c.p.SessionID
			}
			if evs[0].Subject != wantSub || evs[0].SessionID != wantSID {
				t.Errorf("event names %q/%q, want %q/%q", evs[0].Subject, evs[0].SessionID, wantSub, wantSID)
			}
			l := lastLine(e, "event=failure", c.err.Error())
			if !strings.Contains(l, "level="+c.level) {
				t.Errorf("log line %q, want level %s", l, c.level)
			}
			if c.p != nil && !strings.Contains(l, "session="+c.p.SessionID) {
				t.Errorf("log line %q does not name the session", l)
			}
		})
	}
	t.Run("nil: nothing was refused", func(t *testing.T) {
		e.ClearEvents()
		e.Auth.ReportFailure(bg, nil, p)
		if evs := e.Events(); len(evs) != 0 {
			t.Errorf("events %+v, want none", evs)
		}
	})
}

// TestSelfServiceNeedsAPrincipal: the methods that act for the caller
// refuse to act for nobody: Sessions, Logout and LogoutOthers without a
// principal, or Logout and LogoutOthers with one that names no session,
// are ErrNoToken, and touch nothing.
func TestSelfServiceNeedsAPrincipal(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	e.Login(t, users["1"], "laptop")
	before := e.Store.Calls()
	noSession := &latch.Principal{Subject: "1"}
	if list, err := e.Auth.Sessions(bg, nil); !errors.Is(err, latch.ErrNoToken) || list != nil {
		t.Errorf("Sessions(nil) = %v, %v; want ErrNoToken", list, err)
	}
	if list, err := e.Auth.Sessions(bg, &latch.Principal{Subject: "1"}); !errors.Is(err, latch.ErrNoToken) || list != nil {
		t.Errorf("Sessions(no session) = %v, %v; want ErrNoToken", list, err)
	}
	for _, p := range []*latch.Principal{nil, noSession} {
		if err := e.Auth.Logout(bg, p); !errors.Is(err, latch.ErrNoToken) {
			t.Errorf("Logout(%+v) = %v, want ErrNoToken", p, err)
		}
		if n, err := e.Auth.LogoutOthers(bg, p); !errors.Is(err, latch.ErrNoToken) || n != 0 {
			t.Errorf("LogoutOthers(%+v) = %d, %v; want ErrNoToken", p, n, err)
		}
	}
	if after := e.Store.Calls(); after != before {
		t.Errorf("the store was called: %+v after %+v", after, before)
	}
	if e.HasEvent(latch.EventLogout) || e.HasEvent(latch.EventLogoutOthers) {
		t.Error("an event for a logout that did not happen")
	}
}

// A refused token's event names the session (and, where the store knows
// it, the subject) it claimed, for audit logs.
func TestFailureEventsNameTheSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.Login(t, users["1"], "laptop")
			p, _ := e.Auth.Authenticate(bg, tk.AccessToken, access)
			e.Auth.Logout(bg, p)
			e.ClearEvents()
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Fatalf("Authenticate: %v, want ErrTokenRevoked", err)
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Fatalf("Refresh: %v, want ErrTokenRevoked", err)
			}
			var n int
			for _, ev := range e.Events() {
				if ev.Kind == latch.EventFailure {
					n++
					if ev.SessionID != tk.SessionID || !errors.Is(ev.Err, latch.ErrTokenRevoked) {
						t.Errorf("failure event = %+v, want session %s", ev, tk.SessionID)
					}
				}
			}
			if n != 2 {
				t.Errorf("%d failure events, want 2", n)
			}
			if !strings.Contains(e.Logs.String(), "session="+tk.SessionID) {
				t.Errorf("log does not name the session: %s", e.Logs)
			}
		})
	}
}
