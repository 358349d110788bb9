package latch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/internal/leaktest"
)

// TestMain records every token the suite's Auths issue, and each test env
// scans what it logged and every error it reported for them; a leak fails
// the test that made it, and the run (package leaktest). Auths made
// without newEnv log to slog.Default, which is scanned too, at Debug
// level.
func TestMain(m *testing.M) { leaktest.Main(m, authtest.Keys()...) }

var (
	modes = authtest.Modes
	users = authtest.Users
	bg    = context.Background()
)

// testSecret is the JWT signing key of every env, base64.
const testSecret = authtest.Secret

// sessionKey stands for LATCH_SESSION_KEY (openssl rand -base64 32).
const sessionKey = authtest.SessionKey

type (
	user = authtest.User
	// env is one Auth under test with its clock, store and captured logs.
	env = authtest.Env
)

// newEnv returns an env in mode; see authtest.New.
func newEnv(t testing.TB, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) *env {
	t.Helper()
	return authtest.New(t, mode, edit, opts...)
}

// access and refresh are the requirements of a plain access and refresh
// token.
var (
	access  = latch.Requirement{}
	refresh = latch.Requirement{Type: latch.Refresh}
)

func fmtSprint(v any) string  { return fmt.Sprint(v) }
func fmtSprintV(v any) string { return fmt.Sprintf("%+v %#v", v, v) }
func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }
