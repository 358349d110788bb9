// Package e2e is the end-to-end suite of the walkthrough examples: it
// starts an example's routes behind a real HTTP server, with the limits
// the example runs with, and drives them as a client (or an attacker)
// would, in every mode.
//
//   - Run: the routes (login, refresh, 50 refreshes racing with one token,
//     sessions, cookies, revocation, a store that fails) and the attacks on them (forged, altered and
//     respelled tokens, JWT header and key tricks, token type confusion,
//     refresh reuse, CSRF, cookie flags, conflicting token locations, huge
//     and deeply nested requests, garbage tokens).
//   - RunStores: sessions survive a restart on the default SQLite file and
//     on every store the walkthrough opens by LATCH_STORE, and 50 racing
//     refreshes get one answer on each networked store.
//   - RunOutage: each networked store goes away under the running app and
//     comes back.
//
// It is a module of its own, for tests only and never published, so that
// the examples stay short and only this module requires the backends'
// drivers and internal/testenv. Backends come from internal/testenv:
// with LATCH_TEST_REQUIRE naming one, a missing backend fails the suite
// instead of skipping it.
package e2e

import (
	"net/http"
	"testing"

	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// Routes is an example's routes on its framework.
type Routes func(*walkthrough.App) http.Handler

// testCase is one test of a suite, run as a subtest of its name.
type testCase struct {
	name string
	run  func(*testing.T, Routes)
}

// runAll runs cases against routes, one after another: some of them count
// goroutines or allocations, which other tests running at once would
// disturb.
func runAll(t *testing.T, routes Routes, cases []testCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, routes) })
	}
}

// Run runs the routes and attack tests against routes.
func Run(t *testing.T, routes Routes) {
	runAll(t, routes, []testCase{
		// The walkthrough's routes.
		{"Login", testLogin},
		{"Routes", testRoutes},
		{"ExpiredAccessToken", testExpiredAccessToken},
		{"Refresh", testRefresh},
		{"RefreshRace", testRefreshRace},
		{"Devices", testDevices},
		{"JWTLogoutWithoutSessionCheck", testJWTLogoutWithoutSessionCheck},
		{"UserRemoved", testUserRemoved},
		{"Cookies", testCookies},
		{"StoreUnavailable", testStoreUnavailable},
		{"Revoke", testRevoke},
		// Attacks on tokens.
		{"AttackTimeClaims", testAttackTimeClaims},
		{"AttackIssuerAudience", testAttackIssuerAudience},
		{"AttackSubject", testAttackSubject},
		{"AttackAlgNone", testAttackAlgNone},
		{"AttackKeyConfusion", testAttackKeyConfusion},
		{"AttackEmptyHMACKey", testAttackEmptyHMACKey},
		{"AttackKid", testAttackKid},
		{"AttackKeyURLHeaders", testAttackKeyURLHeaders},
		{"AttackCrit", testAttackCrit},
		{"AttackSignature", testAttackSignature},
		{"AttackOpaque", testAttackOpaque},
		{"AttackSpellings", testAttackSpellings},
		// Attacks on sessions.
		{"AttackTokenType", testAttackTokenType},
		{"AttackRefreshReuse", testAttackRefreshReuse},
		{"AttackRevokedSession", testAttackRevokedSession},
		{"AttackDeletedUser", testAttackDeletedUser},
		{"AttackOtherUsersSession", testAttackOtherUsersSession},
		// Attacks on HTTP: cookies, token locations, request sizes.
		{"AttackCSRF", testAttackCSRF},
		{"AttackCookieFlags", testAttackCookieFlags},
		{"AttackQueryToken", testAttackQueryToken},
		{"AttackConflictingTokens", testAttackConflictingTokens},
		{"AttackHugeRequests", testAttackHugeRequests},
		{"AttackDots", testAttackDots},
	})
}

// RunStores runs the restart tests against routes, on the default SQLite
// file and on every networked store.
func RunStores(t *testing.T, routes Routes) {
	runAll(t, routes, []testCase{
		{"SessionsSurviveRestart", testSessionsSurviveRestart},
		{"EveryStoreByURL", testEveryStoreByURL},
		{"RefreshRace", testEveryStoreRefreshRace},
	})
}

// RunOutage runs the outage test against routes: every networked store
// taken away and brought back, in every mode.
func RunOutage(t *testing.T, routes Routes) {
	runAll(t, routes, []testCase{{"Outage", testOutage}})
}
