package latchhttp_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// TestThrottledAnswer: a throttled login is 429 with Retry-After, its
// wait in whole seconds rounded up and at least 1, and latch's JSON body;
// wrapped or bare alike.
func TestThrottledAnswer(t *testing.T) {
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	a, err := latchhttp.New(core, latchhttp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	throttled := func(d time.Duration) error { return &latch.ThrottledError{RetryAfter: d} }
	for _, c := range []struct {
		err  error
		want string
	}{
		{throttled(time.Second), "1"},
		{throttled(1500 * time.Millisecond), "2"},
		{throttled(time.Nanosecond), "1"},
		{throttled(0), "1"},
		{throttled(15 * time.Minute), "900"},
		{fmt.Errorf("app: %w", throttled(3*time.Second+time.Millisecond)), "4"},
		{errors.Join(errors.New("app"), throttled(2*time.Second)), "2"},
		{latch.ErrThrottled, "1"},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			a.WriteError(w, httptest.NewRequest("POST", "/login", nil), c.err)
			h := w.Result().Header
			if w.Code != 429 || latchhttp.StatusCode(c.err) != 429 {
				t.Errorf("status = %d, StatusCode = %d, want 429", w.Code, latchhttp.StatusCode(c.err))
			}
			if got := h.Get("Retry-After"); got != c.want {
				t.Errorf("Retry-After = %q, want %q", got, c.want)
			}
			if got := w.Body.String(); got != `{"msg":"Too many failed login attempts, try again later"}`+"\n" {
				t.Errorf("body = %s", got)
			}
			if h.Get("WWW-Authenticate") != "" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("headers = %v", h)
			}
		})
	}
}
