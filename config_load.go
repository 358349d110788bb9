package latch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/latchauth/latch/internal/configfile"
)

// settings names each setting three ways: its key in a configuration file,
// its environment variable ("" for none), and its field in Go. Errors name
// a setting the way it was given (see Config.setting).
var settings = map[string]struct{ env, field string }{
	"mode":           {"LATCH_MODE", "Mode"},
	"store":          {"LATCH_STORE", "Store"},
	"jwt.secret":     {"LATCH_JWT_SECRET", "JWT.Secret"},
	"jwt.key_file":   {"LATCH_JWT_KEY_FILE", "JWT.KeyFile"},
	"jwt.alg":        {"LATCH_JWT_ALG", "JWT.Alg"},
	"jwt.issuer":     {"LATCH_JWT_ISSUER", "JWT.Issuer"},
	"jwt.audience":   {"LATCH_JWT_AUDIENCE", "JWT.Audience"},
	"jwt.leeway":     {"LATCH_JWT_LEEWAY", "JWT.Leeway"},
	"access_ttl":     {"LATCH_ACCESS_TTL", "AccessTTL"},
	"refresh_ttl":    {"LATCH_REFRESH_TTL", "RefreshTTL"},
	"session_ttl":    {"LATCH_SESSION_TTL", "SessionTTL"},
	"fresh_ttl":      {"LATCH_FRESH_TTL", "FreshTTL"},
	"touch_interval": {"LATCH_TOUCH_INTERVAL", "TouchInterval"},
	"max_sessions":   {"LATCH_MAX_SESSIONS", "MaxSessions"},
	"keep_spent":     {"", "KeepSpent"},
	"reuse_grace":    {"LATCH_REUSE_GRACE", "ReuseGrace"},
	"session_check":  {"LATCH_SESSION_CHECK", "SessionCheck"},
	"store_timeout":  {"LATCH_STORE_TIMEOUT", "StoreTimeout"},
}

// fromEnv is the origin of a setting read from the environment.
const fromEnv = "env"

// setting names the setting key as it was given: its environment variable
// (LATCH_JWT_SECRET), its key in a configuration file (jwt.secret in
// app.json), or its Go field (Config.JWT.Secret) when it was set in code
// or not at all.
func (c Config) setting(key string) string {
	s := settings[key]
	switch origin := c.origin[key]; {
	case origin == fromEnv:
		return s.env
	case origin != "":
		return key + " in " + origin
	}
	return "Config." + s.field
}

// given records that key was set from origin.
func (c *Config) given(key, origin string) {
	if c.origin == nil {
		c.origin = map[string]string{}
	}
	c.origin[key] = origin
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
		if key != "jwt" {
			c.given(key, path)
			continue
		}
		var jwt map[string]json.RawMessage
		if json.Unmarshal(raw, &jwt) == nil {
			for k := range jwt {
				c.given("jwt."+k, path)
			}
		}
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
	dur("touch_interval", &c.TouchInterval)
	dur("store_timeout", &c.StoreTimeout)
	dur("reuse_grace", &c.ReuseGrace)
	if v, ok := get("max_sessions"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("latch: LATCH_MAX_SESSIONS=%q: use a whole number, 0 for no cap", v))
		}
		c.MaxSessions = n
	}
	if v, ok := get("session_check"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("latch: LATCH_SESSION_CHECK=%q: use true or false", v))
		}
		c.SessionCheck = b
	}
	return c, errors.Join(errs...)
}

// MarshalJSON writes "[redacted]", so a logged or dumped Config never
// carries the key.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
