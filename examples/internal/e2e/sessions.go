package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// testDevices logs one user in on two devices and ends them one by one.
// In JWT modes access tokens are refused at once only with SessionCheck;
// testJWTLogoutWithoutSessionCheck shows the difference.
func testDevices(t *testing.T, routes Routes) {
	ended := want{401, invalidToken("Session has ended"), sessionEnded}
	notFound := want{404, "", `{"msg":"Session not found"}`}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, func(c *config) { c.SessionCheck = true })
			a := h.login(t, "test", "laptop")
			h.clock.Add(time.Second)
			b := h.login(t, "test", "phone")
			t.Run("list from A", func(t *testing.T) {
				checkList(t, h.sessions(t, a.AccessToken), []string{"phone", "laptop"}, "laptop")
			})
			t.Run("list from B", func(t *testing.T) {
				checkList(t, h.sessions(t, b.AccessToken), []string{"phone", "laptop"}, "phone")
			})
			t.Run("logout A", func(t *testing.T) {
				h.post(t, "/logout", a.AccessToken).check(t, want{200, "", `{"msg":"Logged out"}`})
				h.get(t, "/protected", a.AccessToken).check(t, ended)
				h.refresh(t, a.RefreshToken).check(t, ended)
			})
			t.Run("B still works", func(t *testing.T) {
				h.get(t, "/protected", b.AccessToken).check(t, want{200, "", loggedInAs("1")})
				checkList(t, h.sessions(t, b.AccessToken), []string{"phone"}, "phone")
			})
			a = h.login(t, "test", "laptop")
			t.Run("A revokes B", func(t *testing.T) {
				id := h.sessionID(t, a.AccessToken, "phone")
				h.del(t, "/sessions/"+id, a.AccessToken).check(t, want{200, "", `{"msg":"Session revoked"}`})
				h.get(t, "/protected", b.AccessToken).check(t, ended)
				h.refresh(t, b.RefreshToken).check(t, ended)
				checkList(t, h.sessions(t, a.AccessToken), []string{"laptop"}, "laptop")
				h.del(t, "/sessions/"+id, a.AccessToken).check(t, notFound)
			})
			bat := h.login(t, "batman", "batcave")
			t.Run("another user's session is not found", func(t *testing.T) {
				id := h.sessionID(t, bat.AccessToken, "batcave")
				h.del(t, "/sessions/"+id, a.AccessToken).check(t, notFound)
				h.get(t, "/protected", bat.AccessToken).check(t, want{200, "", loggedInAs("2")})
				checkList(t, h.sessions(t, bat.AccessToken), []string{"batcave"}, "batcave")
			})
			t.Run("unknown ids are not found", func(t *testing.T) {
				for _, id := range []string{"nope", "0000000000000000000000", strings.Repeat("z", 300)} {
					h.del(t, "/sessions/"+id, a.AccessToken).check(t, notFound)
				}
			})
			t.Run("logout_all ends every device", func(t *testing.T) {
				c := h.login(t, "test", "tablet")
				h.post(t, "/logout_all", a.AccessToken).check(t, want{200, "", `{"msg":"Logged out everywhere","revoked":2}`})
				h.get(t, "/protected", a.AccessToken).check(t, ended)
				h.get(t, "/protected", c.AccessToken).check(t, ended)
				h.refresh(t, c.RefreshToken).check(t, ended)
				h.get(t, "/protected", bat.AccessToken).check(t, want{200, "", loggedInAs("2")})
			})
		})
	}
}

// checkList checks the device labels of a session list, in order, and
// which one is current.
func checkList(t *testing.T, list []latch.SessionInfo, labels []string, current string) {
	t.Helper()
	var got []string
	for _, s := range list {
		got = append(got, s.Device.Label)
		if s.Current != (s.Device.Label == current) {
			t.Errorf("session %q: current = %v", s.Device.Label, s.Current)
		}
		if s.Device.IP != "127.0.0.1" || !strings.HasPrefix(s.Device.UserAgent, "Go-http-client/") {
			t.Errorf("session %q: device %+v, want the client's IP and User-Agent", s.Device.Label, s.Device)
		}
	}
	if strings.Join(got, ",") != strings.Join(labels, ",") {
		t.Errorf("sessions = %v, want %v (newest first)", got, labels)
	}
}

func testJWTLogoutWithoutSessionCheck(t *testing.T, routes Routes) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			a, b := h.login(t, "test", "laptop"), h.login(t, "test", "phone")
			h.post(t, "/logout", a.AccessToken).check(t, want{200, "", `{"msg":"Logged out"}`})
			t.Run("A's access JWT cannot manage sessions", func(t *testing.T) {
				h.get(t, "/sessions", a.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
				h.post(t, "/logout_all", a.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			})
			t.Run("A's access JWT works until it expires", func(t *testing.T) {
				h.get(t, "/protected", a.AccessToken).check(t, want{200, "", loggedInAs("1")})
				h.clock.Add(accessTTL + time.Second)
				h.get(t, "/protected", a.AccessToken).check(t, want{401, invalidToken("Token has expired"), daveBody})
			})
			t.Run("A's refresh token is refused", func(t *testing.T) {
				h.refresh(t, a.RefreshToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			})
			t.Run("B refreshes", func(t *testing.T) {
				next := h.decodeTokens(t, h.refresh(t, b.RefreshToken))
				checkList(t, h.sessions(t, next.AccessToken), []string{"phone"}, "phone")
			})
		})
	}
}

func testRevoke(t *testing.T, routes Routes) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, func(c *config) { c.SessionCheck = true })
			a, b := h.login(t, "test", "laptop"), h.login(t, "test", "phone")
			form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			h.do(t, request{method: "POST", path: "/revoke", body: "token=" + a.RefreshToken, header: form}).check(t, want{200, "", "{}"})
			h.do(t, request{method: "POST", path: "/revoke", body: "token=not-a-token", header: form}).check(t, want{200, "", "{}"})
			h.get(t, "/protected", a.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			h.get(t, "/protected", b.AccessToken).check(t, want{200, "", loggedInAs("1")})
		})
	}
}
