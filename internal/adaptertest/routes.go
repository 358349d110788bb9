package adaptertest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
// that answers with Answer.
type Route struct {
	Method, Path string
	Use          Use
	// Guard is what a route with Use Guard enforces.
	Guard latchhttp.Guard
	// Via is how the guard is mounted; with InGroup and GroupUse, Group
	// is the group's prefix, which Path begins with.
	Via   Via
	Group string
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
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, pok := latch.FromContext(r.Context())
		u, uok := latch.UserFrom[*User](r.Context())
		Answer(w, r, p, pok, u, uok)
	})
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Path, Endpoint(a, rt.Use, func() http.Handler { return a.Middleware(rt.Guard)(answer) }))
	}
	return mux
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
// writes it: latch.Auth.Throttle with the client's address around the
// application's password check (form fields username and password; every
// username with loginPassword, compared alike whoever it names), answered
// 200 {"msg":"Logged in"} or 401 {"msg":"Bad username or password"}, and
// latch's refusals with WriteError.
func loginHandler(a *latchhttp.Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		att, err := a.Core().Throttle(r.Context(), r.FormValue("username"), r.RemoteAddr)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		ok := subtle.ConstantTimeCompare([]byte(r.FormValue("password")), []byte(loginPassword)) == 1
		if err := att.Done(r.Context(), ok); err != nil {
			a.WriteError(w, r, err)
			return
		}
		if !ok {
			latchhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"msg": "Bad username or password"})
			return
		}
		latchhttp.WriteJSON(w, http.StatusOK, map[string]string{"msg": "Logged in"})
	})
}
