package adaptertest

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// Use names what a route serves: a Guard in front of Answer, or one of
// latchhttp's endpoints.
type Use string

// The uses of a route. Every adapter mounts a guarded route with its one
// guard function (latchhttp's Auth.Middleware, latchgin.Guard, latchecho5.Guard,
// latchecho.Guard) and an endpoint as its framework wraps an http.Handler.
const (
	// Guard: Route.Guard in front of Answer.
	Guard Use = "Guard"
	// RefreshHandler and RevocationHandler are latchhttp's endpoints, with
	// no handler of the application behind them.
	RefreshHandler    Use = "RefreshHandler"
	RevocationHandler Use = "RevocationHandler"
	// IntrospectionHandler is latchhttp's RFC 7662 endpoint, mounted with
	// IntrospectionClient as its authorize function.
	IntrospectionHandler Use = "IntrospectionHandler"
	// Login is an application's login route, Login, throttled by latch.
	Login Use = "Login"
	// SessionLogin is an application's login route that opens a session,
	// sessionLoginHandler.
	SessionLogin Use = "SessionLogin"
)

// App is the application's handler behind a guarded route: "" for Answer,
// or one that acts for the principal the adapter's getter returned, as an
// application's own handlers do (see Handler).
type App string

// The application handlers of guarded routes.
const (
	// StepUp re-checks the password (form field password, throttled as
	// Login is) and steps the session up: latch.Auth.StepUp, answered with
	// WriteStepUp.
	StepUp App = "StepUp"
	// LoginAs logs the principal in as the account named by form field
	// username (latch.Auth.LoginAs), answered with WriteTokens; the
	// route's guard decides who may.
	LoginAs App = "LoginAs"
	// ListSessions answers the sessions of the principal's subject
	// (latch.Auth.Sessions), without their ids.
	ListSessions App = "ListSessions"
	// EndSession ends the session whose id is form field id
	// (latch.Auth.LogoutSession).
	EndSession App = "EndSession"
)

// IntrospectionClient authorizes the callers of the IntrospectionHandler
// route: HTTP Basic as client "table" with a fixed 32-byte secret.
var IntrospectionClient = latchhttp.BasicClient("table", introspectionSecret)

const introspectionSecret = "table-introspection-secret-0123456789"

// Via says how a route's guard is mounted.
type Via string

// The ways to mount a guard. net/http has no groups: its reference wraps
// each route's handler whatever Via says.
const (
	// OnRoute: the guard is the route's own middleware.
	OnRoute Via = ""
	// InGroup: the guard is given to the group, Group(prefix, guard), as
	// docs/adapters.md shows.
	InGroup Via = "Group"
	// GroupUse: the group is made bare, then Use(guard).
	GroupUse Via = "Use"
)

// Route is one route of the table. Every guarded route ends in a handler
// that answers with Answer, or in the application handler App names.
type Route struct {
	Method, Path string
	Use          Use
	// Guard is what a route with Use Guard enforces.
	Guard latchhttp.Guard
	// Via is how the guard is mounted; with InGroup and GroupUse, Group
	// is the group's prefix, which Path begins with.
	Via   Via
	Group string
	// App is the handler behind the guard: "" for Answer.
	App App
}

// AdminOnly is the walkthrough's admin_required as a check.
func AdminOnly(_ *http.Request, p *latch.Principal) error {
	if p.Claims["is_administrator"] == true {
		return nil
	}
	return latch.Forbidden("Admins only!")
}

// refuse is a check that fails with an error of the application's own:
// latchhttp answers it 403 "Forbidden".
func refuse(*http.Request, *latch.Principal) error { return errors.New("adaptertest: no") }

// late and silent are checks that fail with kinds no guard produces
// (latch.ErrInvalidSubject, latch.ErrInvalidClaims), so that the
// fixture's responders for them, LateHeader and Silent, answer only these
// routes.
func late(*http.Request, *latch.Principal) error   { return latch.ErrInvalidSubject }
func silent(*http.Request, *latch.Principal) error { return latch.ErrInvalidClaims }

// Guards of the routes below.
var (
	headerOrQuery = latchhttp.Guard{Locations: []latchhttp.Location{latchhttp.InHeader, latchhttp.InQuery}}
	anywhere      = latchhttp.Guard{Locations: []latchhttp.Location{latchhttp.InHeader, latchhttp.InQuery, latchhttp.InJSON}}
	adminOnly     = latchhttp.Required().With(AdminOnly)
)

// Routes are the routes every adapter mounts for the table.
var Routes = []Route{
	{Method: "GET", Path: "/required", Use: Guard, Guard: latchhttp.Required()},
	{Method: "POST", Path: "/required", Use: Guard, Guard: latchhttp.Required()},
	{Method: "GET", Path: "/optional", Use: Guard, Guard: latchhttp.Optional()},
	{Method: "GET", Path: "/fresh", Use: Guard, Guard: latchhttp.Fresh()},
	{Method: "POST", Path: "/refresh-only", Use: Guard, Guard: latchhttp.RefreshToken()},
	{Method: "GET", Path: "/session", Use: Guard, Guard: latchhttp.SessionCheck()},
	{Method: "GET", Path: "/admin", Use: Guard, Guard: adminOnly},
	{Method: "GET", Path: "/refused", Use: Guard, Guard: latchhttp.Required().With(refuse)},
	{Method: "POST", Path: "/json", Use: Guard, Guard: latchhttp.Guard{Locations: []latchhttp.Location{latchhttp.InJSON}}},
	{Method: "POST", Path: "/refresh", Use: RefreshHandler},
	{Method: "POST", Path: "/revoke", Use: RevocationHandler},
	{Method: "POST", Path: "/introspect", Use: IntrospectionHandler},
	{Method: "POST", Path: "/login", Use: Login},

	// Methods that ServeMux's "GET /required" would not route alike.
	{Method: "HEAD", Path: "/required", Use: Guard, Guard: latchhttp.Required()},
	{Method: "OPTIONS", Path: "/required", Use: Guard, Guard: latchhttp.Required()},
	// Token locations beyond the fixture's header and cookie.
	{Method: "GET", Path: "/query", Use: Guard, Guard: headerOrQuery},
	{Method: "POST", Path: "/any", Use: Guard, Guard: anywhere},
	// Responders that write late, or nothing.
	{Method: "GET", Path: "/late", Use: Guard, Guard: latchhttp.Required().With(late)},
	{Method: "GET", Path: "/silent", Use: Guard, Guard: latchhttp.Required().With(silent)},
	// Guards on groups, as docs/adapters.md mounts them.
	{Method: "GET", Path: "/group/required", Use: Guard, Guard: latchhttp.Required(), Via: InGroup, Group: "/group"},
	{Method: "GET", Path: "/admin/dashboard", Use: Guard, Guard: adminOnly, Via: InGroup, Group: "/admin"},
	{Method: "GET", Path: "/use/required", Use: Guard, Guard: latchhttp.Required(), Via: GroupUse, Group: "/use"},
	{Method: "POST", Path: "/use/required", Use: Guard, Guard: latchhttp.Required(), Via: GroupUse, Group: "/use"},
	// Logins that open sessions, step-up, delegation and session
	// management: the application's handlers behind the adapter's guard.
	{Method: "POST", Path: "/login/session", Use: SessionLogin},
	{Method: "POST", Path: "/stepup", Use: Guard, Guard: latchhttp.Required(), App: StepUp},
	{Method: "POST", Path: "/login-as", Use: Guard, Guard: adminOnly, App: LoginAs},
	{Method: "GET", Path: "/sessions", Use: Guard, Guard: latchhttp.Required(), App: ListSessions},
	{Method: "POST", Path: "/sessions/end", Use: Guard, Guard: latchhttp.Required(), App: EndSession},
}

// answer is the JSON body of Answer.
type answer struct {
	// Sub, Fresh and User come from the adapter's own getters.
	Sub   string `json:"sub"`
	Fresh bool   `json:"fresh"`
	User  string `json:"user"`
	// CtxSub and CtxUser come from latch.FromContext and latch.UserFrom
	// on the request the handler got.
	CtxSub  string `json:"ctx_sub"`
	CtxUser string `json:"ctx_user"`
	// BodyBytes is how much of the request body the handler could read
	// after latch: all of it.
	BodyBytes int `json:"body_bytes"`
	// Mismatch names a getter whose ok disagrees with its value.
	Mismatch string `json:"mismatch,omitempty"`
}

// Answer is the handler behind every guarded route: it answers 200 with
// what the adapter's getters returned (p, pok, u, uok), what latch's
// context getters return on r, and how many bytes of the body it could
// read.
func Answer(w http.ResponseWriter, r *http.Request, p *latch.Principal, pok bool, u *User, uok bool) {
	var a answer
	if pok != (p != nil) {
		a.Mismatch = "principal"
	}
	if uok != (u != nil) {
		a.Mismatch = "user"
	}
	if p != nil {
		a.Sub, a.Fresh = p.Subject, p.Fresh
	}
	if u != nil {
		a.User = u.Name
	}
	if cp, ok := latch.FromContext(r.Context()); ok {
		a.CtxSub = cp.Subject
	}
	if cu, ok := latch.UserFrom[*User](r.Context()); ok {
		a.CtxUser = cu.Name
	}
	if r.Body != nil {
		n, _ := io.Copy(io.Discard, r.Body)
		a.BodyBytes = int(n)
	}
	latchhttp.WriteJSON(w, http.StatusOK, a)
}

// NetHTTP is the reference adapter: latchhttp's own middleware on a
// ServeMux.
var NetHTTP = Adapter{Name: "net/http", Mount: mountNetHTTP}

func mountNetHTTP(a *latchhttp.Auth, routes []Route) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		handle := Handler(a, rt.App)
		answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, pok := latch.FromContext(r.Context())
			u, uok := latch.UserFrom[*User](r.Context())
			handle(w, r, p, pok, u, uok)
		})
		mux.Handle(rt.Method+" "+rt.Path, Endpoint(a, rt.Use, func() http.Handler { return a.Middleware(rt.Guard)(answer) }))
	}
	return mux
}

// Handle is a handler behind a guard, given what the adapter's getters
// returned, as Answer is.
type Handle func(w http.ResponseWriter, r *http.Request, p *latch.Principal, pok bool, u *User, uok bool)

// Handler returns the handler of app on a: Answer for "". Every adapter
// ends a guarded route in Handler(a, Route.App).
func Handler(a *latchhttp.Auth, app App) Handle {
	if app == "" {
		return Answer
	}
	act, ok := apps[app]
	if !ok {
		panic("adaptertest: unknown App " + string(app))
	}
	return func(w http.ResponseWriter, r *http.Request, p *latch.Principal, pok bool, _ *User, _ bool) {
		if pok != (p != nil) {
			latchhttp.WriteJSON(w, http.StatusInternalServerError, answer{Mismatch: "principal"})
			return
		}
		act(a, w, r, p)
	}
}

// apps are the handlers of the Apps, acting for p.
var apps = map[App]func(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, p *latch.Principal){
	StepUp: stepUp, LoginAs: loginAs, ListSessions: listSessions, EndSession: endSession,
}

// Endpoint returns what serves a route of use u: guarded() for Guard, else
// the latchhttp endpoint u names. Every adapter mounts endpoints through
// it, wrapped as its framework wraps an http.Handler.
func Endpoint(a *latchhttp.Auth, u Use, guarded func() http.Handler) http.Handler {
	switch u {
	case Guard:
		return guarded()
	case RefreshHandler:
		return a.RefreshHandler()
	case RevocationHandler:
		return a.RevocationHandler()
	case IntrospectionHandler:
		return a.IntrospectionHandler(IntrospectionClient)
	case Login:
		return loginHandler(a)
	case SessionLogin:
		return sessionLoginHandler(a)
	}
	panic("adaptertest: unknown Use " + string(u))
}

// compactJSON returns b compacted if it is JSON, else b.
func compactJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// loginPassword is the password of every account on the Login route.
const loginPassword = "correct horse"

// loginHandler is an application's login route as docs/throttling.md
// writes it (see checkPassword), answered 200 {"msg":"Logged in"}.
func loginHandler(a *latchhttp.Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if checkPassword(a, w, r, r.FormValue("username")) {
			latchhttp.WriteJSON(w, http.StatusOK, map[string]string{"msg": "Logged in"})
		}
	})
}

// checkPassword is an application's password check for account,
// throttled as docs/throttling.md writes it: latch.Auth.Throttle with the
// client's address around the comparison of form field password with
// loginPassword (every account has it, compared alike whoever account
// names). It reports whether the password is right; when not, it has
// answered: 401 {"msg":"Bad username or password"}, or latch's refusal
// with WriteError.
func checkPassword(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, account string) bool {
	att, err := a.Core().Throttle(r.Context(), account, r.RemoteAddr)
	if err != nil {
		a.WriteError(w, r, err)
		return false
	}
	ok := subtle.ConstantTimeCompare([]byte(r.FormValue("password")), []byte(loginPassword)) == 1
	if err := att.Done(r.Context(), ok); err != nil {
		a.WriteError(w, r, err)
		return false
	}
	if !ok {
		latchhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"msg": "Bad username or password"})
	}
	return ok
}

// device is the device of every login of the table.
var device = latch.Device{Label: "table"}

// sessionLoginHandler is an application's login route that opens a
// session: the password of form field username checked by checkPassword
// (an account that is none of the fixture's answers alike), then
// latch.Auth.Login with the idle timeout of form field idle_timeout (a Go
// duration; none when empty: "remember me"), answered with WriteTokens.
func sessionLoginHandler(a *latchhttp.Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var opts latch.LoginOptions
		opts.Device = device
		if v := r.FormValue("idle_timeout"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				a.WriteError(w, r, latch.ErrBadRequest)
				return
			}
			opts.IdleTimeout = d
		}
		if !checkPassword(a, w, r, r.FormValue("username")) {
			return
		}
		u := accountNamed(r.FormValue("username"))
		if u == nil {
			latchhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"msg": "Bad username or password"})
			return
		}
		t, err := a.Core().Login(r.Context(), u, opts)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		a.WriteTokens(w, t)
	})
}

// stepUp re-checks p's password and steps its session up.
func stepUp(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, p *latch.Principal) {
	if !checkPassword(a, w, r, p.Subject) {
		return
	}
	t, err := a.Core().StepUp(r.Context(), p)
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	a.WriteStepUp(w, t)
}

// loginAs logs p in as the account form field username names.
func loginAs(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, p *latch.Principal) {
	u := accountNamed(r.FormValue("username"))
	if u == nil {
		a.WriteError(w, r, latch.ErrBadRequest)
		return
	}
	t, err := a.Core().LoginAs(r.Context(), p, u, latch.LoginOptions{Device: device})
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	a.WriteTokens(w, t)
}

// sessionSummary is what listSessions answers of a session: not its id,
// which differs from run to run.
type sessionSummary struct {
	Device    string    `json:"device"`
	ExpiresAt time.Time `json:"expires_at"`
	Actor     string    `json:"actor,omitempty"`
	Current   bool      `json:"current"`
}

// listSessions answers p's subject's sessions, the current one first.
func listSessions(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, p *latch.Principal) {
	list, err := a.Core().Sessions(r.Context(), p)
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	out := make([]sessionSummary, 0, len(list))
	for _, s := range list {
		out = append(out, sessionSummary{Device: s.Device.Label, ExpiresAt: s.ExpiresAt, Actor: s.Actor, Current: s.Current})
	}
	// Sessions of the same instant come in no set order.
	slices.SortStableFunc(out, func(x, y sessionSummary) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x.Actor, y.Actor), x.ExpiresAt.Compare(y.ExpiresAt))
	})
	latchhttp.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// rank puts the current session first.
func rank(s sessionSummary) int {
	if s.Current {
		return 0
	}
	return 1
}

// endSession ends p's subject's session form field id names.
func endSession(a *latchhttp.Auth, w http.ResponseWriter, r *http.Request, p *latch.Principal) {
	if err := a.Core().LogoutSession(r.Context(), p, r.FormValue("id")); err != nil {
		a.WriteError(w, r, err)
		return
	}
	latchhttp.WriteJSON(w, http.StatusOK, map[string]string{"msg": "Session ended"})
}
