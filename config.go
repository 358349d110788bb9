package latch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch/internal/b64token"
)

// Config is the core's configuration. The zero value of a field means its
// default; switching Mode is the only change needed to move an application
// between opaque, JWT and hybrid tokens. HTTP settings (token locations,
// cookies) belong to package latchhttp.
type Config struct {
	// Mode: opaque (default), jwt or hybrid.
	Mode Mode `json:"mode"`
	// Store is a store URL: memory: (built in) or a scheme a store module
	// registers when imported. Default "memory:".
	// WithStore takes precedence.
	Store StoreURL `json:"store"`

	// SessionKey is required in every mode: base64 (as JWT.Secret) of at
	// least 32 random bytes, from which each refresh derives the session's
	// next secrets, so that a refresh retried or raced within ReuseGrace
	// gets the tokens the first one got. Make one with
	// `openssl rand -base64 32`, keep it secret, and keep it apart from
	// JWT.Secret. Without it a spent token or a dump of the store yields
	// no live token.
	SessionKey Secret `json:"session_key"`
	// PreviousSessionKeys are keys SessionKey replaced, still recognised
	// when a refresh is retried; drop them after ReuseGrace has passed
	// everywhere.
	PreviousSessionKeys []Secret `json:"previous_session_keys"`

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
	// FreshTTL: how long a login, or a step-up (Auth.StepUp), stays
	// fresh. 0 (default): until the session's next refresh.
	FreshTTL Duration `json:"fresh_ttl"`
	// DelegationTTL: the absolute lifetime of a delegated session
	// (Auth.LoginAs), which ends sooner if the staff member's own session
	// does. Default 1h, or SessionTTL if that is shorter; at most
	// SessionTTL.
	DelegationTTL Duration `json:"delegation_ttl"`
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
	// for a retried or concurrent refresh rather than a replay: the most
	// recently spent one gets the tokens its first refresh got, with no
	// store write; an older one gets ErrRefreshRace and the session lives
	// on. Past the grace a spent token revokes the session. Default 5s.
	ReuseGrace Duration `json:"reuse_grace"`
	// SessionCheck makes JWT access tokens look up their session on every
	// request, so logout and revocation act at once (always on in opaque
	// mode).
	SessionCheck bool `json:"session_check"`
	// StoreTimeout bounds each store call; past it the call fails with
	// ErrUnavailable, never a pass. Default 2s.
	StoreTimeout Duration `json:"store_timeout"`
	// SessionCache turns on a cache, in this process, of the sessions
	// that access tokens are checked against (opaque mode, SessionCheck,
	// delegated sessions), kept true by the changes the store reports
	// (store.Watcher): a session ended or changed anywhere is refused here
	// as soon as the report arrives, and at once when this process made
	// the change. Its value is how long the cache trusts itself without
	// proof that reports still arrive: a heartbeat it sends through the
	// store at least every third of it must have come back within it, or
	// every check reads the store again; nor is an entry served longer
	// than this after the read that filled it. 0 (default): no cache. At least
	// 1s and at most 10m; the store must implement store.Watcher. See
	// docs/performance.md.
	SessionCache Duration `json:"session_cache"`

	// Throttle configures the login throttling of Auth.Throttle.
	Throttle ThrottleConfig `json:"throttle"`

	// origin records where LoadConfigFile and ConfigFromEnv found each
	// setting, so that errors name it as the user wrote it (see setting).
	// It holds the values loaded, secrets included, so it is a pointer:
	// fmt prints unexported fields as they are, without their String
	// methods, but prints a pointer inside a struct as an address.
	origin *origins
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

// ThrottleConfig configures login throttling (see Auth.Throttle and
// docs/throttling.md). Failed logins are counted in three buckets: per
// account, per account and client address, and per client address (an
// IPv6 /64). Each bucket lets its free attempts through; past them, each
// attempt waits BaseDelay after the bucket's latest failure, doubling with
// each further failure up to MaxDelay. A bucket forgets its failures
// Window after its latest one, and a successful login clears the
// account's buckets.
type ThrottleConfig struct {
	// AccountFree: failures per account, from any address, before delays
	// begin. Default 10.
	AccountFree int `json:"account_free"`
	// PairFree: failures per account from one address. Default 5.
	PairFree int `json:"pair_free"`
	// AddressFree: failures from one address, whatever the account; more
	// generous, since users behind one NAT share it. Default 50.
	AddressFree int `json:"address_free"`
	// BaseDelay: the first delay past the free attempts. Default 1s.
	BaseDelay Duration `json:"base_delay"`
	// MaxDelay caps the delay, so that an attacker can slow a user down
	// but never lock them out. Default 15m.
	MaxDelay Duration `json:"max_delay"`
	// Window: how long a bucket remembers failures after its latest one.
	// At least MaxDelay. Default 24h.
	Window Duration `json:"window"`
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
	DefaultDelegationTTL = time.Hour

	DefaultThrottleAccountFree = 10
	DefaultThrottlePairFree    = 5
	DefaultThrottleAddressFree = 50
	DefaultThrottleBaseDelay   = time.Second
	DefaultThrottleMaxDelay    = 15 * time.Minute
	DefaultThrottleWindow      = 24 * time.Hour

	// MaxTokenLen bounds a presented token; longer is malformed.
	MaxTokenLen = b64token.MaxLen
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
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
	def(&c.DelegationTTL, min(DefaultDelegationTTL, c.SessionTTL.D()))
	if c.KeepSpent == 0 {
		c.KeepSpent = DefaultKeepSpent
	}
	t := &c.Throttle
	for _, n := range []struct {
		p *int
		v int
	}{{&t.AccountFree, DefaultThrottleAccountFree}, {&t.PairFree, DefaultThrottlePairFree}, {&t.AddressFree, DefaultThrottleAddressFree}} {
		if *n.p == 0 {
			*n.p = n.v
		}
	}
	def(&t.BaseDelay, DefaultThrottleBaseDelay)
	def(&t.MaxDelay, DefaultThrottleMaxDelay)
	def(&t.Window, DefaultThrottleWindow)
	return c
}

// validate reports every problem in c (after defaults) at once, each
// setting named as the user gave it.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("latch: config: "+format, a...)) }
	switch c.Mode {
	case ModeOpaque, ModeJWT, ModeHybrid:
	default:
		bad("%s %q: use opaque, jwt or hybrid", c.setting("mode"), c.Mode)
	}
	for _, s := range []struct {
		key string
		d   Duration
	}{{"access_ttl", c.AccessTTL}, {"refresh_ttl", c.RefreshTTL}, {"session_ttl", c.SessionTTL},
		{"touch_interval", c.TouchInterval}, {"store_timeout", c.StoreTimeout},
		{"delegation_ttl", c.DelegationTTL},
		{"throttle.base_delay", c.Throttle.BaseDelay}, {"throttle.max_delay", c.Throttle.MaxDelay}, {"throttle.window", c.Throttle.Window}} {
		if s.d <= 0 {
			bad("%s must be positive", c.setting(s.key))
		}
	}
	for _, s := range []struct {
		key string
		d   Duration
	}{{"fresh_ttl", c.FreshTTL}, {"reuse_grace", c.ReuseGrace}, {"jwt.leeway", c.JWT.Leeway}, {"session_cache", c.SessionCache}} {
		if s.d < 0 {
			bad("%s must not be negative", c.setting(s.key))
		}
	}
	if c.ReuseGrace > Duration(time.Minute) {
		bad("%s %s is over 1m: replays inside it go undetected", c.setting("reuse_grace"), c.ReuseGrace.D())
	}
	if c.JWT.Leeway > Duration(5*time.Minute) {
		bad("%s %s is over 5m: fix the clocks instead", c.setting("jwt.leeway"), c.JWT.Leeway.D())
	}
	if c.AccessTTL > c.SessionTTL || c.RefreshTTL > c.SessionTTL {
		bad("%s and %s must not exceed %s", c.setting("access_ttl"), c.setting("refresh_ttl"), c.setting("session_ttl"))
	}
	if c.DelegationTTL > c.SessionTTL {
		bad("%s must not exceed %s", c.setting("delegation_ttl"), c.setting("session_ttl"))
	}
	if c.SessionCache != 0 && (c.SessionCache < Duration(minSessionCache) || c.SessionCache > Duration(maxSessionCache)) {
		bad("%s %s: use 0 (off) or %s to %s", c.setting("session_cache"), c.SessionCache.D(), minSessionCache, maxSessionCache)
	}
	if c.MaxSessions < 0 {
		bad("%s must not be negative", c.setting("max_sessions"))
	}
	if c.KeepSpent < 1 || c.KeepSpent > 100 {
		bad("%s must be between 1 and 100 (0 means the default, %d)", c.setting("keep_spent"), DefaultKeepSpent)
	}
	for _, key := range []string{"throttle.account_free", "throttle.pair_free", "throttle.address_free"} {
		if n := c.value(key).(int); n < 1 || n > maxThrottleFree {
			bad("%s must be between 1 and %d (0 means the default)", c.setting(key), maxThrottleFree)
		}
	}
	if c.Throttle.MaxDelay > Duration(maxThrottleDelay) {
		bad("%s %s is over %s: a delay that long locks users out", c.setting("throttle.max_delay"), c.Throttle.MaxDelay.D(), maxThrottleDelay)
	}
	if t := c.Throttle; t.BaseDelay > t.MaxDelay || t.MaxDelay > t.Window {
		bad("%s must not exceed %s, nor %s %s", c.setting("throttle.base_delay"), c.setting("throttle.max_delay"),
			c.setting("throttle.max_delay"), c.setting("throttle.window"))
	}
	if c.TouchInterval > c.RefreshTTL/2 {
		bad("%s must be at most half of %s, or sessions in use could idle out", c.setting("touch_interval"), c.setting("refresh_ttl"))
	}
	return errors.Join(errs...)
}
