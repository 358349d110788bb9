package adaptertest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/latchauth/latch"
)

// Use names what guards a route, as each adapter spells it.
type Use string

// The guards and endpoints of the table. Each adapter mounts a route with
// its own function of that name: latch's (*Auth).Required, latchgin.Required,
// latchecho.Required, and so on.
const (
	Required        Use = "Required"
	Optional        Use = "Optional"
	FreshRequired   Use = "FreshRequired"
	RefreshRequired Use = "RefreshRequired"
	SessionRequired Use = "SessionRequired"
	// Require: the route's Guard.Checks, through Require(checks...).
	Require Use = "Require"
	// Middleware: the route's whole Guard, through Middleware(guard).
	Middleware Use = "Middleware"
	// RefreshHandler and RevocationHandler are latch's endpoints, with no
	// handler of the application behind them.
	RefreshHandler    Use = "RefreshHandler"
	RevocationHandler Use = "RevocationHandler"
	// IntrospectionHandler is latch's RFC 7662 endpoint, mounted with
	// IntrospectionClient as its authorize function.
	IntrospectionHandler Use = "IntrospectionHandler"
)

// IntrospectionClient authorizes the callers of the IntrospectionHandler
// route: HTTP Basic as client "table" with a fixed 32-byte secret.
var IntrospectionClient = latch.BasicClient("table", introspectionSecret)

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
	// Guard is what Use enforces; adapters need it only for Require
	// (Checks) and Middleware (all of it).
	Guard latch.Guard
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
// latch answers it 403 "Forbidden".
func refuse(*http.Request, *latch.Principal) error { return errors.New("adaptertest: no") }

// late and silent are checks that fail with kinds no guard produces
// (latch.ErrInvalidSubject, latch.ErrInvalidClaims), so that the
// fixture's responders for them, LateHeader and Silent, answer only these
// routes.
func late(*http.Request, *latch.Principal) error   { return latch.ErrInvalidSubject }
func silent(*http.Request, *latch.Principal) error { return latch.ErrInvalidClaims }

// Guards of the routes below.
var (
	headerOrQuery = latch.Guard{Locations: []latch.Location{latch.InHeader, latch.InQuery}}
	anywhere      = latch.Guard{Locations: []latch.Location{latch.InHeader, latch.InQuery, latch.InJSON}}
	adminOnly     = latch.Guard{Checks: []latch.Check{AdminOnly}}
)

// Routes are the routes every adapter mounts for the table.
var Routes = []Route{
	{Method: "GET", Path: "/required", Use: Required, Guard: latch.Guard{}},
	{Method: "POST", Path: "/required", Use: Required, Guard: latch.Guard{}},
	{Method: "GET", Path: "/optional", Use: Optional, Guard: latch.Guard{Optional: true}},
	{Method: "GET", Path: "/fresh", Use: FreshRequired, Guard: latch.Guard{Fresh: true}},
	{Method: "POST", Path: "/refresh-only", Use: RefreshRequired, Guard: latch.Guard{Type: latch.Refresh}},
	{Method: "GET", Path: "/session", Use: SessionRequired, Guard: latch.Guard{CheckSession: true}},
	{Method: "GET", Path: "/admin", Use: Require, Guard: adminOnly},
	{Method: "GET", Path: "/refused", Use: Require, Guard: latch.Guard{Checks: []latch.Check{refuse}}},
	{Method: "POST", Path: "/json", Use: Middleware, Guard: latch.Guard{Locations: []latch.Location{latch.InJSON}}},
	{Method: "POST", Path: "/refresh", Use: RefreshHandler},
	{Method: "POST", Path: "/revoke", Use: RevocationHandler},
	{Method: "POST", Path: "/introspect", Use: IntrospectionHandler},

	// Methods that ServeMux's "GET /required" would not route alike.
	{Method: "HEAD", Path: "/required", Use: Required, Guard: latch.Guard{}},
	{Method: "OPTIONS", Path: "/required", Use: Required, Guard: latch.Guard{}},
	// Token locations beyond the fixture's header and cookie.
	{Method: "GET", Path: "/query", Use: Middleware, Guard: headerOrQuery},
	{Method: "POST", Path: "/any", Use: Middleware, Guard: anywhere},
	// Responders that write late, or nothing.
	{Method: "GET", Path: "/late", Use: Require, Guard: latch.Guard{Checks: []latch.Check{late}}},
	{Method: "GET", Path: "/silent", Use: Require, Guard: latch.Guard{Checks: []latch.Check{silent}}},
	// Guards on groups, as docs/adapters.md mounts them.
	{Method: "GET", Path: "/group/required", Use: Required, Guard: latch.Guard{}, Via: InGroup, Group: "/group"},
	{Method: "GET", Path: "/admin/dashboard", Use: Require, Guard: adminOnly, Via: InGroup, Group: "/admin"},
	{Method: "GET", Path: "/use/required", Use: Required, Guard: latch.Guard{}, Via: GroupUse, Group: "/use"},
	{Method: "POST", Path: "/use/required", Use: Required, Guard: latch.Guard{}, Via: GroupUse, Group: "/use"},
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
	latch.WriteJSON(w, http.StatusOK, a)
}

// NetHTTP is the reference adapter: latch's own net/http middleware on a
// ServeMux.
var NetHTTP = Adapter{Name: "net/http", Mount: mountNetHTTP}

func mountNetHTTP(a *latch.Auth, routes []Route) http.Handler {
	mux := http.NewServeMux()
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, pok := latch.FromContext(r.Context())
		u, uok := latch.UserFrom[*User](r.Context())
		Answer(w, r, p, pok, u, uok)
	})
	for _, rt := range routes {
		var h http.Handler
		switch rt.Use {
		case Required:
			h = a.Required(answer)
		case Optional:
			h = a.Optional(answer)
		case FreshRequired:
			h = a.FreshRequired(answer)
		case RefreshRequired:
			h = a.RefreshRequired(answer)
		case SessionRequired:
			h = a.SessionRequired(answer)
		case Require:
			h = a.Require(rt.Guard.Checks...)(answer)
		case Middleware:
			h = a.Middleware(rt.Guard)(answer)
		case RefreshHandler:
			h = a.RefreshHandler()
		case RevocationHandler:
			h = a.RevocationHandler()
		case IntrospectionHandler:
			h = a.IntrospectionHandler(IntrospectionClient)
		default:
			panic("adaptertest: unknown Use " + string(rt.Use))
		}
		mux.Handle(rt.Method+" "+rt.Path, h)
	}
	return mux
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
