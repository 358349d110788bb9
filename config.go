package latch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything latch reads from configuration. The zero value of a
// field means its default; switching Mode is the only change needed to move
// an application between opaque, JWT and hybrid tokens.
type Config struct {
	// Mode: opaque (default), jwt or hybrid.
	Mode Mode `json:"mode"`
	// Store is a store URL: memory: (built in) or a scheme a store module
	// registers when imported. Default "memory:".
	// WithStore takes precedence.
	Store StoreURL `json:"store"`

	JWT JWTConfig `json:"jwt"`

	// AccessTTL: lifetime of an access token. Default 15m.
	AccessTTL Duration `json:"access_ttl"`
	// RefreshTTL: lifetime of a refresh token and idle timeout of a
	// session: a session unused for this long ends. Each refresh (and, in
	// opaque mode or with SessionCheck, each use) slides it. Default 30d.
	RefreshTTL Duration `json:"refresh_ttl"`
	// SessionTTL: absolute lifetime of a session from its login, which no
	// use extends. Default 90d.
	SessionTTL Duration `json:"session_ttl"`
	// FreshTTL: how long a login stays fresh. 0 (default): until the
	// session's first refresh.
	FreshTTL Duration `json:"fresh_ttl"`
	// TouchInterval: the store records a session's last use at most this
	// often. Default 1m.
	TouchInterval Duration `json:"touch_interval"`
	// MaxSessions caps the sessions one subject may hold; a new login then
	// ends the oldest. 0: no cap.
	MaxSessions int `json:"max_sessions"`
	// KeepSpent: how many spent refresh hashes a session remembers for
	// reuse detection. Default 5.
	KeepSpent int `json:"keep_spent"`
	// ReuseGrace: a refresh token spent less than this long ago is taken
	// for a concurrent refresh that lost the race (401, the session lives
	// on) rather than a replay (the session is revoked). Default 5s.
	ReuseGrace Duration `json:"reuse_grace"`
	// SessionCheck makes JWT access tokens look up their session on every
	// request, so logout and revocation act at once (always on in opaque
	// mode).
	SessionCheck bool `json:"session_check"`
	// StoreTimeout bounds each store call; past it the request gets 503.
	// Default 2s.
	StoreTimeout Duration `json:"store_timeout"`

	HTTP HTTPConfig `json:"http"`
}

// JWTConfig configures signing in jwt and hybrid modes. Exactly one of
// Secret and KeyFile is needed there (or WithKeyring).
type JWTConfig struct {
	// Secret: base64 (standard or URL alphabet, padding optional) of an
	// HMAC key of at least 32 random bytes. Make one with
	// `openssl rand -base64 32`.
	Secret Secret `json:"secret"`
	// KeyFile: a PEM private key (RSA, ECDSA or Ed25519).
	KeyFile string `json:"key_file"`
	// Alg: HS256 (default with Secret), HS384, HS512, RS256…, PS256…,
	// ES256…, EdDSA. With KeyFile the default follows the key.
	Alg string `json:"alg"`
	// Issuer and Audience are written into tokens and, when set, required
	// on every token verified.
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	// Leeway tolerates clock skew on exp, nbf and iat. Default 0.
	Leeway Duration `json:"leeway"`
}

// StoreURL is a store URL. It prints as its scheme, host and path only,
// since credentials hide in many places (redis://:pw@host,
// postgres://db/app?password=…, sqlite:f.db?_auth_pass=…).
type StoreURL string

// String returns scheme://host/path of the URL, or just "scheme:…" for
// anything else, never user information or query parameters.
func (u StoreURL) String() string {
	p, err := url.Parse(string(u))
	switch {
	case err != nil || p.Scheme == "":
		return "[store URL]"
	case p.Opaque != "" || p.Host == "":
		return p.Scheme + ":…"
	}
	s := p.Scheme + "://" + p.Host + p.EscapedPath()
	if p.RawQuery != "" {
		s += "?…"
	}
	return s
}

// GoString is String.
func (u StoreURL) GoString() string { return u.String() }

// MarshalJSON writes the redacted URL: a Config written out as JSON is for
// reading, and does not load back with the same store.
func (u StoreURL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

// UnmarshalJSON reads the URL as it is.
func (u *StoreURL) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, (*string)(u)) }

// Secret is a string that never prints: fmt and slog show "[redacted]".
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// HTTPConfig configures the middleware.
type HTTPConfig struct {
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
	// DisableCSRF turns the check off. Only for cookies that no browser
	// sends cross-site (SameSite=strict, and no subdomain you don't trust).
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

// Duration is a time.Duration that reads "15m", "720h" or "30d" from JSON
// and the environment.
type Duration time.Duration

// ParseDuration reads a Go duration or a whole number of days ("30d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(d, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("latch: duration %q: days must be a whole number such as 30d", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("latch: duration %q: use a form such as 15m, 720h or 30d", s)
	}
	return Duration(d), nil
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("latch: duration must be a string such as \"15m\" or \"30d\"")
	}
	v, err := ParseDuration(s)
	*d = v
	return err
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Defaults applied by New for zero fields.
const (
	DefaultAccessTTL     = 15 * time.Minute
	DefaultRefreshTTL    = 30 * 24 * time.Hour
	DefaultSessionTTL    = 90 * 24 * time.Hour
	DefaultTouchInterval = time.Minute
	DefaultStoreTimeout  = 2 * time.Second
	DefaultKeepSpent     = 5
	DefaultReuseGrace    = 5 * time.Second
	// MaxTokenLen bounds a presented token; longer is malformed.
	MaxTokenLen = 8192
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	str := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	c.Mode = Mode(strings.ToLower(string(c.Mode)))
	if c.Mode == "" {
		c.Mode = ModeOpaque
	}
	if c.Store == "" {
		c.Store = "memory:"
	}
	def(&c.AccessTTL, DefaultAccessTTL)
	def(&c.RefreshTTL, DefaultRefreshTTL)
	def(&c.SessionTTL, DefaultSessionTTL)
	def(&c.TouchInterval, DefaultTouchInterval)
	def(&c.StoreTimeout, DefaultStoreTimeout)
	def(&c.ReuseGrace, DefaultReuseGrace)
	if c.KeepSpent == 0 {
		c.KeepSpent = DefaultKeepSpent
	}
	h := &c.HTTP
	str(&h.Realm, "latch")
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
		h.MaxBodyBytes = 64 << 10
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
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("latch: config: "+format, a...)) }
	switch c.Mode {
	case ModeOpaque, ModeJWT, ModeHybrid:
	default:
		bad("mode %q: use opaque, jwt or hybrid", c.Mode)
	}
	for name, d := range map[string]Duration{"access_ttl": c.AccessTTL, "refresh_ttl": c.RefreshTTL, "session_ttl": c.SessionTTL,
		"touch_interval": c.TouchInterval, "store_timeout": c.StoreTimeout} {
		if d <= 0 {
			bad("%s must be positive", name)
		}
	}
	if c.FreshTTL < 0 || c.JWT.Leeway < 0 || c.ReuseGrace < 0 {
		bad("fresh_ttl, reuse_grace and jwt.leeway must not be negative")
	}
	if c.ReuseGrace > Duration(time.Minute) {
		bad("reuse_grace %s is over 1m: replays inside it go undetected", c.ReuseGrace.D())
	}
	if c.JWT.Leeway > Duration(5*time.Minute) {
		bad("jwt.leeway %s is over 5m: fix the clocks instead", c.JWT.Leeway.D())
	}
	if c.AccessTTL > c.SessionTTL || c.RefreshTTL > c.SessionTTL {
		bad("access_ttl and refresh_ttl must not exceed session_ttl")
	}
	if c.MaxSessions < 0 {
		bad("max_sessions must not be negative")
	}
	if c.KeepSpent < 1 || c.KeepSpent > 100 {
		bad("keep_spent must be between 1 and 100 (0 means the default, %d)", DefaultKeepSpent)
	}
	if c.TouchInterval > c.RefreshTTL/2 {
		bad("touch_interval must be at most half of refresh_ttl, or sessions in use could idle out")
	}
	h := c.HTTP
	for _, l := range h.Locations {
		switch l {
		case InHeader, InCookie, InQuery, InJSON:
		default:
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

// maxConfigFile bounds a configuration file.
const maxConfigFile = 1 << 20

// LoadConfigFile reads a JSON configuration file. Unknown fields are an
// error, so a misspelt setting is not silently ignored.
func LoadConfigFile(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("latch: config file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return c, fmt.Errorf("latch: config file %s: %w", path, err)
	}
	if len(b) > maxConfigFile {
		return c, fmt.Errorf("latch: config file %s is over 1 MiB", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("latch: config file %s: %w", path, err)
	}
	if dec.More() {
		return c, fmt.Errorf("latch: config file %s: trailing data after the JSON object", path)
	}
	return c, nil
}

// ConfigFromEnv reads the configuration from LATCH_* environment variables,
// on top of the JSON file LATCH_CONFIG_FILE names, if any.
//
//	LATCH_MODE            opaque | jwt | hybrid
//	LATCH_STORE           store URL, e.g. memory:
//	LATCH_JWT_SECRET      base64 HMAC key (openssl rand -base64 32)
//	LATCH_JWT_KEY_FILE    PEM private key file
//	LATCH_JWT_ALG         HS256 … EdDSA
//	LATCH_JWT_ISSUER, LATCH_JWT_AUDIENCE, LATCH_JWT_LEEWAY
//	LATCH_ACCESS_TTL, LATCH_REFRESH_TTL, LATCH_SESSION_TTL, LATCH_FRESH_TTL,
//	LATCH_TOUCH_INTERVAL, LATCH_STORE_TIMEOUT, LATCH_REUSE_GRACE
//	                      durations: 15m, 720h, 30d
//	LATCH_MAX_SESSIONS    integer, 0 for no cap
//	LATCH_SESSION_CHECK   true | false
//	LATCH_TOKEN_LOCATION  comma-separated: header,cookie,query,json
//	LATCH_COOKIE_INSECURE true for plain-HTTP development
func ConfigFromEnv() (Config, error) { return configFrom(os.LookupEnv) }

func configFrom(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	if path, ok := lookup("LATCH_CONFIG_FILE"); ok && path != "" {
		var err error
		if c, err = LoadConfigFile(path); err != nil {
			return c, err
		}
	}
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	dur := func(name string, dst *Duration) {
		if v, ok := lookup(name); ok && v != "" {
			d, err := ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("latch: %s=%q: %s", name, v, strings.TrimPrefix(err.Error(), "latch: ")))
			}
			*dst = d
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(name); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("latch: %s=%q: use true or false", name, v))
			}
			*dst = b
		}
	}
	var mode string
	str("LATCH_MODE", &mode)
	if mode != "" {
		c.Mode = Mode(strings.ToLower(mode))
	}
	var storeURL string
	str("LATCH_STORE", &storeURL)
	if storeURL != "" {
		c.Store = StoreURL(storeURL)
	}
	if v, ok := lookup("LATCH_JWT_SECRET"); ok {
		c.JWT.Secret = Secret(v)
	}
	str("LATCH_JWT_KEY_FILE", &c.JWT.KeyFile)
	str("LATCH_JWT_ALG", &c.JWT.Alg)
	str("LATCH_JWT_ISSUER", &c.JWT.Issuer)
	str("LATCH_JWT_AUDIENCE", &c.JWT.Audience)
	dur("LATCH_JWT_LEEWAY", &c.JWT.Leeway)
	dur("LATCH_ACCESS_TTL", &c.AccessTTL)
	dur("LATCH_REFRESH_TTL", &c.RefreshTTL)
	dur("LATCH_SESSION_TTL", &c.SessionTTL)
	dur("LATCH_FRESH_TTL", &c.FreshTTL)
	dur("LATCH_TOUCH_INTERVAL", &c.TouchInterval)
	dur("LATCH_STORE_TIMEOUT", &c.StoreTimeout)
	dur("LATCH_REUSE_GRACE", &c.ReuseGrace)
	if v, ok := lookup("LATCH_MAX_SESSIONS"); ok && v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("latch: LATCH_MAX_SESSIONS=%q: use a whole number, 0 for no cap", v))
		}
		c.MaxSessions = n
	}
	boolean("LATCH_SESSION_CHECK", &c.SessionCheck)
	boolean("LATCH_COOKIE_INSECURE", &c.HTTP.Cookie.Insecure)
	if v, ok := lookup("LATCH_TOKEN_LOCATION"); ok && v != "" {
		c.HTTP.Locations = nil
		for _, l := range strings.Split(v, ",") {
			c.HTTP.Locations = append(c.HTTP.Locations, Location(strings.ToLower(strings.TrimSpace(l))))
		}
	}
	return c, errors.Join(errs...)
}

// MarshalJSON writes "[redacted]", so a logged or dumped Config never
// carries the key.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
