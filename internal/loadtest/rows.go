package main

import (
	"runtime/debug"
	"strings"
)

// row is one line of the load table: a server and how it is set up.
type row struct {
	name  string // for -only
	label string // the table's first column
	// server is the -server to run; "flask" is gunicorn instead.
	server string
	// store is the backend the row needs: memory, sqlite, redis or
	// postgres.
	store string
	// For server "latch": LATCH_MODE, LATCH_SESSION_CHECK, and whether
	// LATCH_SESSION_CACHE is set.
	mode         string
	sessionCheck bool
	cache        bool
	// minRatio is the row's target against bare (0: none); ahead are rows
	// it must beat as well.
	minRatio float64
	ahead    []string
}

// sessionCacheSetting is LATCH_SESSION_CACHE on the cached rows.
const sessionCacheSetting = "30s"

// rows are the load table, in the order of issue 15.
func rows() []row {
	latchRow := func(store, mode string, check, cache bool) row {
		name, label := "latch-"+mode, "latch, "+mode+" mode"
		if check {
			name, label = "latch-jwt-check", "latch, session-checked jwt"
		}
		if store != "memory" {
			name += "-" + store
			label += " on " + map[string]string{"redis": "Redis", "sqlite": "SQLite", "postgres": "PostgreSQL"}[store]
		}
		if cache {
			name += "-cached"
			label += ", session cache " + sessionCacheSetting
		}
		return row{name: name, label: label, server: "latch", store: store, mode: mode, sessionCheck: check, cache: cache}
	}
	jwt := latchRow("memory", "jwt", false, false)
	jwt.label = "**" + jwt.label + "**"
	jwt.minRatio, jwt.ahead = 0.80, []string{"gin-jwt", "echo-jwt", "jwtauth"}
	out := []row{
		{name: "bare", label: "bare net/http handler", server: "bare", store: "memory"},
		{name: "golang-jwt", label: "hand-written golang-jwt `Parse` with `MapClaims` (" + version("github.com/golang-jwt/jwt/v5") + ")", server: "golang-jwt", store: "memory"},
		{name: "gin-jwt", label: "gin-jwt (appleboy/gin-jwt/v2 " + version("github.com/appleboy/gin-jwt/v2") + ", gin " + version("github.com/gin-gonic/gin") + ")", server: "gin-jwt", store: "memory"},
		{name: "echo-jwt", label: "echo-jwt (labstack/echo-jwt/v4 " + version("github.com/labstack/echo-jwt/v4") + ", echo " + version("github.com/labstack/echo/v4") + ")", server: "echo-jwt", store: "memory"},
		jwt,
		{name: "jwtauth", label: "go-chi/jwtauth/v5 " + version("github.com/go-chi/jwtauth/v5"), server: "jwtauth", store: "memory"},
		{name: "sha256-redis", label: "hand-written SHA-256 + one Redis `GET`", server: "sha256-redis", store: "redis"},
		latchRow("redis", "opaque", false, false),
		latchRow("sqlite", "opaque", false, false),
		latchRow("sqlite", "jwt", true, false),
		latchRow("postgres", "opaque", false, false),
		latchRow("postgres", "jwt", true, false),
	}
	for _, st := range []string{"redis", "postgres"} {
		for _, check := range []bool{false, true} {
			mode := "opaque"
			if check {
				mode = "jwt"
			}
			r := latchRow(st, mode, check, true)
			r.minRatio = 0.85
			out = append(out, r)
		}
	}
	return append(out, row{name: "flask", label: "flask-jwt-extended (the seed system), gunicorn, 2 workers", server: "flask", store: "memory"})
}

// version returns the version of module path this binary was built with.
func version(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "?"
}

// selected returns the rows only names (comma-separated; all when empty),
// bare always among them.
func selected(all []row, only string) []row {
	if only == "" {
		return all
	}
	want := map[string]bool{"bare": true}
	for n := range strings.SplitSeq(only, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []row
	for _, r := range all {
		if want[r.name] {
			out = append(out, r)
		}
	}
	return out
}
