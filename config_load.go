package latch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/latchauth/latch/internal/configfile"
)

// settings names each setting three ways: its key in a configuration file,
// its environment variable ("" for none), and its field in Go. Errors name
// a setting the way it was given (see Config.setting).
var settings = map[string]struct{ env, field string }{
	"mode":                  {"LATCH_MODE", "Mode"},
	"store":                 {"LATCH_STORE", "Store"},
	"session_key":           {"LATCH_SESSION_KEY", "SessionKey"},
	"previous_session_keys": {"LATCH_PREVIOUS_SESSION_KEYS", "PreviousSessionKeys"},
	"jwt.secret":            {"LATCH_JWT_SECRET", "JWT.Secret"},
	"jwt.key_file":          {"LATCH_JWT_KEY_FILE", "JWT.KeyFile"},
	"jwt.alg":               {"LATCH_JWT_ALG", "JWT.Alg"},
	"jwt.issuer":            {"LATCH_JWT_ISSUER", "JWT.Issuer"},
	"jwt.audience":          {"LATCH_JWT_AUDIENCE", "JWT.Audience"},
	"jwt.leeway":            {"LATCH_JWT_LEEWAY", "JWT.Leeway"},
	"access_ttl":            {"LATCH_ACCESS_TTL", "AccessTTL"},
	"refresh_ttl":           {"LATCH_REFRESH_TTL", "RefreshTTL"},
	"session_ttl":           {"LATCH_SESSION_TTL", "SessionTTL"},
	"fresh_ttl":             {"LATCH_FRESH_TTL", "FreshTTL"},
	"delegation_ttl":        {"LATCH_DELEGATION_TTL", "DelegationTTL"},
	"touch_interval":        {"LATCH_TOUCH_INTERVAL", "TouchInterval"},
	"max_sessions":          {"LATCH_MAX_SESSIONS", "MaxSessions"},
	"keep_spent":            {"", "KeepSpent"},
	"reuse_grace":           {"LATCH_REUSE_GRACE", "ReuseGrace"},
	"session_check":         {"LATCH_SESSION_CHECK", "SessionCheck"},
	"store_timeout":         {"LATCH_STORE_TIMEOUT", "StoreTimeout"},
	"session_cache":         {"LATCH_SESSION_CACHE", "SessionCache"},

	"throttle.account_free": {"LATCH_THROTTLE_ACCOUNT_FREE", "Throttle.AccountFree"},
	"throttle.pair_free":    {"LATCH_THROTTLE_PAIR_FREE", "Throttle.PairFree"},
	"throttle.address_free": {"LATCH_THROTTLE_ADDRESS_FREE", "Throttle.AddressFree"},
	"throttle.base_delay":   {"LATCH_THROTTLE_BASE_DELAY", "Throttle.BaseDelay"},
	"throttle.max_delay":    {"LATCH_THROTTLE_MAX_DELAY", "Throttle.MaxDelay"},
	"throttle.window":       {"LATCH_THROTTLE_WINDOW", "Throttle.Window"},
}

// sections are the members of a configuration file that hold settings of
// their own ("jwt.secret" is "secret" in "jwt").
var sections = []string{"jwt", "throttle"}

// fromEnv is the origin of a setting read from the environment.
const fromEnv = "env"

// origins maps each setting's key to its origin.
type origins map[string]origin

// origin is where a loader found a setting: in the environment (fromEnv)
// or in a file (its path), which gave it or left it unset, and the value
// it had there, defaults applied.
type origin struct {
	from  string
	given bool
	value any
}

// setting names the setting key the way the user would set it: where
// ConfigFromEnv or LoadConfigFile found it, or left it unset (its
// environment variable, LATCH_JWT_SECRET, or its key in the file,
// jwt.secret in app.json), or else its Go field (Config.JWT.Secret): for a
// Config made in code, or a setting changed in code since it was loaded.
// A setting that has no environment variable is named by its Go field
// where ConfigFromEnv left it unset.
func (c Config) setting(key string) string {
	s := settings[key]
	if c.origin == nil {
		return "Config." + s.field
	}
	if o, ok := (*c.origin)[key]; ok && reflect.DeepEqual(c.value(key), o.value) {
		switch {
		case o.from == fromEnv && s.env != "":
			return s.env
		case o.from != fromEnv:
			return key + " in " + o.from
		}
	}
	return "Config." + s.field
}

// value returns c's value of the setting key, read through its Go field.
func (c Config) value(key string) any {
	v := reflect.ValueOf(c)
	for _, name := range strings.Split(settings[key].field, ".") {
		v = v.FieldByName(name)
	}
	return v.Interface()
}

// given records that key was set from src.
func (c *Config) given(key, src string) {
	if c.origin == nil {
		c.origin = &origins{}
	}
	(*c.origin)[key] = origin{from: src, given: true}
}

// loaded records, once a loader is done, every setting's value (defaults
// applied, as New will see it), and src as where the settings it left
// unset would go.
func (c *Config) loaded(src string) {
	d := c.withDefaults()
	if c.origin == nil {
		c.origin = &origins{}
	}
	for key := range settings {
		o := (*c.origin)[key]
		if !o.given {
			o.from = src
		}
		o.value = d.value(key)
		(*c.origin)[key] = o
	}
}

// LoadConfigFile reads a JSON configuration file. Unknown fields are an
// error, so a misspelt setting is not silently ignored. The file's "http"
// member belongs to latchhttp (latchhttp.LoadConfigFile reads it) and is
// skipped here.
func LoadConfigFile(path string) (Config, error) {
	var c Config
	members, err := configfile.Read(path)
	if err != nil {
		return c, fmt.Errorf("latch: %w", err)
	}
	delete(members, "http")
	b, err := json.Marshal(members)
	if err == nil {
		err = configfile.Decode(b, &c)
	}
	if err != nil {
		return Config{}, fmt.Errorf("latch: config file %s: %w", path, err)
	}
	for key, raw := range members {
		if !slices.Contains(sections, key) {
			c.given(key, path)
			continue
		}
		var section map[string]json.RawMessage
		if json.Unmarshal(raw, &section) == nil {
			for k := range section {
				c.given(key+"."+k, path)
			}
		}
	}
	c.loaded(path)
	return c, nil
}

// ConfigFromEnv reads the configuration from LATCH_* environment variables,
// on top of the JSON file LATCH_CONFIG_FILE names, if any.
//
//	LATCH_MODE            opaque | jwt | hybrid
//	LATCH_STORE           store URL, e.g. memory:
//	LATCH_SESSION_KEY     base64 key, required (openssl rand -base64 32)
//	LATCH_PREVIOUS_SESSION_KEYS  keys it replaced, comma-separated
//	LATCH_JWT_SECRET      base64 HMAC key (openssl rand -base64 32)
//	LATCH_JWT_KEY_FILE    PEM private key file
//	LATCH_JWT_ALG         HS256 … EdDSA
//	LATCH_JWT_ISSUER, LATCH_JWT_AUDIENCE, LATCH_JWT_LEEWAY
//	LATCH_ACCESS_TTL, LATCH_REFRESH_TTL, LATCH_SESSION_TTL, LATCH_FRESH_TTL,
//	LATCH_TOUCH_INTERVAL, LATCH_STORE_TIMEOUT, LATCH_REUSE_GRACE
//	                      durations: 15m, 720h, 30d
//	LATCH_MAX_SESSIONS    integer, 0 for no cap
//	LATCH_SESSION_CHECK   true | false
//	LATCH_THROTTLE_ACCOUNT_FREE, LATCH_THROTTLE_PAIR_FREE,
//	LATCH_THROTTLE_ADDRESS_FREE
//	                      failed logins before delays begin, per bucket
//	LATCH_THROTTLE_BASE_DELAY, LATCH_THROTTLE_MAX_DELAY, LATCH_THROTTLE_WINDOW
//	                      durations of login throttling
//
// The HTTP settings (LATCH_TOKEN_LOCATION, LATCH_COOKIE_INSECURE, the
// file's "http" member) are read by latchhttp.ConfigFromEnv.
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
	// get returns key's variable when it is set and not blank, and records
	// that the setting came from the environment.
	get := func(key string) (string, bool) {
		v, ok := lookup(settings[key].env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", false
		}
		c.given(key, fromEnv)
		return v, true
	}
	// str sets even a blank variable: it clears what a file set.
	str := func(key string, dst *string) {
		if v, ok := lookup(settings[key].env); ok {
			c.given(key, fromEnv)
			*dst = strings.TrimSpace(v)
		}
	}
	dur := func(key string, dst *Duration) {
		if v, ok := get(key); ok {
			d, err := ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("latch: %s=%q: %s", settings[key].env, v, strings.TrimPrefix(err.Error(), "latch: ")))
			}
			*dst = d
		}
	}
	if v, ok := get("mode"); ok {
		c.Mode = Mode(strings.ToLower(strings.TrimSpace(v)))
	}
	if v, ok := get("store"); ok {
		c.Store = StoreURL(strings.TrimSpace(v))
	}
	if v, ok := lookup(settings["session_key"].env); ok {
		c.given("session_key", fromEnv)
		c.SessionKey = Secret(v)
	}
	if v, ok := lookup(settings["previous_session_keys"].env); ok {
		c.given("previous_session_keys", fromEnv)
		c.PreviousSessionKeys = nil
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.PreviousSessionKeys = append(c.PreviousSessionKeys, Secret(k))
			}
		}
	}
	if v, ok := lookup(settings["jwt.secret"].env); ok {
		c.given("jwt.secret", fromEnv)
		c.JWT.Secret = Secret(v)
	}
	str("jwt.key_file", &c.JWT.KeyFile)
	str("jwt.alg", &c.JWT.Alg)
	str("jwt.issuer", &c.JWT.Issuer)
	str("jwt.audience", &c.JWT.Audience)
	dur("jwt.leeway", &c.JWT.Leeway)
	dur("access_ttl", &c.AccessTTL)
	dur("refresh_ttl", &c.RefreshTTL)
	dur("session_ttl", &c.SessionTTL)
	dur("fresh_ttl", &c.FreshTTL)
	dur("delegation_ttl", &c.DelegationTTL)
	dur("touch_interval", &c.TouchInterval)
	dur("store_timeout", &c.StoreTimeout)
	dur("session_cache", &c.SessionCache)
	dur("reuse_grace", &c.ReuseGrace)
	// count reads a whole number; zero is what hint says.
	count := func(key, hint string, dst *int) {
		if v, ok := get(key); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("latch: %s=%q: use a whole number, 0 for %s", settings[key].env, v, hint))
			}
			*dst = n
		}
	}
	count("max_sessions", "no cap", &c.MaxSessions)
	count("throttle.account_free", "the default", &c.Throttle.AccountFree)
	count("throttle.pair_free", "the default", &c.Throttle.PairFree)
	count("throttle.address_free", "the default", &c.Throttle.AddressFree)
	dur("throttle.base_delay", &c.Throttle.BaseDelay)
	dur("throttle.max_delay", &c.Throttle.MaxDelay)
	dur("throttle.window", &c.Throttle.Window)
	if v, ok := get("session_check"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("latch: LATCH_SESSION_CHECK=%q: use true or false", v))
		}
		c.SessionCheck = b
	}
	c.loaded(fromEnv)
	return c, errors.Join(errs...)
}

// MarshalJSON writes "[redacted]", so a logged or dumped Config never
// carries the key.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
