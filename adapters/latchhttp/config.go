package latchhttp

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/latchauth/latch/internal/configfile"
)

// Config configures the HTTP layer. The zero value of a field means its
// default. latchhttp.ConfigFromEnv reads it from the environment and the
// "http" member of latch's configuration file.
type Config struct {
	// Realm in WWW-Authenticate. Default "latch".
	Realm string `json:"realm"`
	// Locations to look for a token, in order: header, cookie, query,
	// json. Default [header]. The first location holding a token decides,
	// but different tokens in two of header, query and json are refused
	// (RFC 6750 §2).
	Locations []Location `json:"locations"`
	// HeaderName and HeaderScheme: default "Authorization" and "Bearer".
	// An empty scheme with a custom header takes the whole value.
	HeaderName   string `json:"header_name"`
	HeaderScheme string `json:"header_scheme"`
	// QueryParam: default "access_token" (RFC 6750 §2.3); the query
	// location is off unless listed.
	QueryParam string `json:"query_param"`
	// JSONAccessKey and JSONRefreshKey name the body fields of the json
	// location. Default "access_token" and "refresh_token".
	JSONAccessKey  string `json:"json_access_key"`
	JSONRefreshKey string `json:"json_refresh_key"`
	// MaxBodyBytes bounds a JSON body latch reads. Default 64 KiB.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// ErrorKey is the JSON key of error messages. Default "msg".
	ErrorKey string `json:"error_key"`

	Cookie CookieConfig `json:"cookie"`
}

// CookieConfig configures the cookie location and its CSRF protection.
type CookieConfig struct {
	// Names of the token cookies (HttpOnly) and their CSRF cookies
	// (readable by scripts). Defaults latch_access, latch_refresh,
	// latch_csrf_access, latch_csrf_refresh.
	AccessName      string `json:"access_name"`
	RefreshName     string `json:"refresh_name"`
	CSRFAccessName  string `json:"csrf_access_name"`
	CSRFRefreshName string `json:"csrf_refresh_name"`
	// NoHostPrefix turns off the __Host- prefix. By default every cookie
	// that is Secure, has no Domain and Path=/ is named __Host-…, which
	// browsers only accept from this very host: no subdomain can set or
	// shadow it.
	NoHostPrefix bool `json:"no_host_prefix"`
	// Domain, Path (default "/") and RefreshPath (default "/").
	Domain      string `json:"domain"`
	Path        string `json:"path"`
	RefreshPath string `json:"refresh_path"`
	// Insecure drops the Secure attribute, for plain-HTTP development only.
	Insecure bool `json:"insecure"`
	// SameSite: lax (default), strict or none (needs Secure).
	SameSite string `json:"same_site"`
	// CSRFHeader carries the double-submit token on unsafe methods.
	// Default X-CSRF-Token.
	CSRFHeader string `json:"csrf_header"`
	// DisableCSRF turns the check off, and New refuses it unless SameSite
	// is strict: only for cookies that no browser sends cross-site (and no
	// subdomain you don't trust).
	DisableCSRF bool `json:"disable_csrf"`
}

// Location is a place a request can carry a token.
type Location string

// Token locations.
const (
	InHeader Location = "header"
	InCookie Location = "cookie"
	InQuery  Location = "query"
	InJSON   Location = "json"
)

// Default limits.
const (
	// DefaultMaxBodyBytes bounds a request body latch reads.
	DefaultMaxBodyBytes = 64 << 10
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	str := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	h := &c
	str(&h.Realm, "latch")
	// A copy: the caller's slice is theirs to change.
	h.Locations = slices.Clone(h.Locations)
	if len(h.Locations) == 0 {
		h.Locations = []Location{InHeader}
	}
	if h.HeaderName == "" {
		h.HeaderName = "Authorization"
		str(&h.HeaderScheme, "Bearer")
	}
	str(&h.QueryParam, "access_token")
	str(&h.JSONAccessKey, "access_token")
	str(&h.JSONRefreshKey, "refresh_token")
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = DefaultMaxBodyBytes
	}
	str(&h.ErrorKey, "msg")
	k := &h.Cookie
	str(&k.AccessName, "latch_access")
	str(&k.RefreshName, "latch_refresh")
	str(&k.CSRFAccessName, "latch_csrf_access")
	str(&k.CSRFRefreshName, "latch_csrf_refresh")
	str(&k.Path, "/")
	str(&k.RefreshPath, "/")
	str(&k.SameSite, "lax")
	str(&k.CSRFHeader, "X-CSRF-Token")
	return c
}

// validate reports every problem in c (after defaults) at once.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("latchhttp: config: "+format, a...)) }
	h := c
	for _, l := range h.Locations {
		if !validLocation(l) {
			bad("token location %q: use header, cookie, query or json", l)
		}
	}
	if h.MaxBodyBytes < 0 {
		bad("http.max_body_bytes must not be negative")
	}
	if h.HeaderScheme == "" && strings.EqualFold(h.HeaderName, "Authorization") {
		bad("the Authorization header needs a scheme such as Bearer")
	}
	k := h.Cookie
	names := map[string]bool{k.AccessName: true, k.RefreshName: true, k.CSRFAccessName: true, k.CSRFRefreshName: true}
	if len(names) != 4 {
		bad("the four cookie names must differ")
	}
	if k.DisableCSRF && !strings.EqualFold(k.SameSite, "strict") {
		bad("cookie disable_csrf needs same_site strict: with %q a browser sends the cookies on cross-site requests, and nothing else stops forged ones", k.SameSite)
	}
	switch strings.ToLower(k.SameSite) {
	case "lax", "strict":
	case "none":
		if k.Insecure {
			bad("cookie same_site none requires Secure cookies")
		}
	default:
		bad("cookie same_site %q: use lax, strict or none", k.SameSite)
	}
	return errors.Join(errs...)
}

// validLocation reports whether l is one of the four locations.
func validLocation(l Location) bool {
	switch l {
	case InHeader, InCookie, InQuery, InJSON:
		return true
	}
	return false
}

// LoadConfigFile reads the "http" member of latch's JSON configuration
// file (the core reads the rest, see latch.LoadConfigFile). Unknown fields
// in it are an error, so a misspelt setting is not silently ignored, and
// so is an invalid setting, the error New would give, reported before
// anything is opened; a file without the member is the zero Config.
func LoadConfigFile(path string) (Config, error) {
	var c Config
	members, err := configfile.Read(path)
	if err != nil {
		return c, fmt.Errorf("latchhttp: %w", err)
	}
	if raw, ok := members["http"]; ok {
		if err := configfile.Decode(raw, &c); err != nil {
			return Config{}, fmt.Errorf("latchhttp: config file %s: http: %w", path, err)
		}
	}
	return c, c.withDefaults().validate()
}

// ConfigFromEnv reads the HTTP configuration from the environment, on top
// of the "http" member of the file LATCH_CONFIG_FILE names, if any, and
// reports an invalid setting at once, as New would, so an application
// that reads its configuration first fails before it opens anything:
//
//	LATCH_TOKEN_LOCATION  comma-separated: header,cookie,query,json
//	LATCH_COOKIE_INSECURE true for plain-HTTP development
//
// latch.ConfigFromEnv reads the core's settings from the same variables
// and file.
func ConfigFromEnv() (Config, error) { return configFrom(os.LookupEnv) }

func configFrom(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	if path, ok := lookup(configfile.EnvVar); ok && path != "" {
		var err error
		if c, err = LoadConfigFile(path); err != nil {
			return c, err
		}
	}
	var errs []error
	if v, ok := lookup("LATCH_COOKIE_INSECURE"); ok && v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("latchhttp: LATCH_COOKIE_INSECURE=%q: use true or false", v))
		}
		c.Cookie.Insecure = b
	}
	if v, ok := lookup("LATCH_TOKEN_LOCATION"); ok && v != "" {
		c.Locations = nil
		for _, l := range strings.Split(v, ",") {
			c.Locations = append(c.Locations, Location(strings.ToLower(strings.TrimSpace(l))))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, c.withDefaults().validate())
	}
	return c, errors.Join(errs...)
}
