package latch_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/authtest"
)

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("LATCH_MODE", "HYBRID")
	t.Setenv("LATCH_JWT_SECRET", testSecret)
	t.Setenv("LATCH_JWT_ISSUER", "https://id.example")
	t.Setenv("LATCH_ACCESS_TTL", "5m")
	t.Setenv("LATCH_REFRESH_TTL", "7d")
	t.Setenv("LATCH_MAX_SESSIONS", "3")
	t.Setenv("LATCH_SESSION_CHECK", "true")
	t.Setenv("LATCH_SESSION_KEY", sessionKey)
	t.Setenv("LATCH_PREVIOUS_SESSION_KEYS", " "+testSecret+" , "+authtest.Secret+",")
	t.Setenv("LATCH_TOKEN_LOCATION", "header, cookie") // latchhttp's: the core ignores it
	c, err := latch.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != latch.ModeHybrid || c.JWT.Issuer != "https://id.example" || c.AccessTTL.D() != 5*time.Minute ||
		c.RefreshTTL.D() != 7*24*time.Hour || c.MaxSessions != 3 || !c.SessionCheck ||
		c.SessionKey != sessionKey || len(c.PreviousSessionKeys) != 2 || c.PreviousSessionKeys[0] != testSecret {
		t.Errorf("config = %+v", c)
	}
	a, err := latch.New(bg, c)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config().Mode != latch.ModeHybrid || a.Keyring() == nil {
		t.Errorf("mode %s, keyring %v", a.Config().Mode, a.Keyring())
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"walkthrough secret", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": "super-secret"}, []string{"openssl rand -base64 32"}},
		{"short secret", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": "c2hvcnQ="}, []string{"openssl rand -base64 32"}},
		{"not base64", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": "!!!not base64!!!"}, []string{"openssl rand -base64 32"}},
		{"weak but long", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"}, []string{"openssl rand -base64 32"}},
		{"no key in jwt mode", map[string]string{"LATCH_MODE": "jwt"}, []string{"LATCH_JWT_SECRET", "openssl rand -base64 32"}},
		{"secret and key file", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": testSecret, "LATCH_JWT_KEY_FILE": "k.pem"}, []string{"not both"}},
		{"bad mode", map[string]string{"LATCH_MODE": "session"}, []string{`LATCH_MODE "session"`}},
		{"bad duration", map[string]string{"LATCH_ACCESS_TTL": "soon"}, []string{`latch: LATCH_ACCESS_TTL="soon": duration "soon": use a form such as 15m`}},
		{"bad max", map[string]string{"LATCH_MAX_SESSIONS": "-1"}, []string{"LATCH_MAX_SESSIONS"}},
		{"unknown store", map[string]string{"LATCH_STORE": "cassandra://x"}, []string{`"cassandra"`, "memory"}},
		{"access longer than session", map[string]string{"LATCH_ACCESS_TTL": "100d"}, []string{"LATCH_ACCESS_TTL and LATCH_REFRESH_TTL must not exceed LATCH_SESSION_TTL"}},
		{"no session key", map[string]string{"LATCH_SESSION_KEY": ""}, []string{"LATCH_SESSION_KEY is not set", "openssl rand -base64 32"}},
		{"weak session key", map[string]string{"LATCH_SESSION_KEY": "c2hvcnQta2V5"}, []string{"LATCH_SESSION_KEY", "fewer than 32 bytes", "openssl rand -base64 32"}},
		{"session key not base64", map[string]string{"LATCH_SESSION_KEY": "not base64!"}, []string{"LATCH_SESSION_KEY", "not base64"}},
		{"session key is the jwt secret", map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": testSecret, "LATCH_SESSION_KEY": testSecret}, []string{"LATCH_SESSION_KEY equals LATCH_JWT_SECRET"}},
		{"weak previous session key", map[string]string{"LATCH_PREVIOUS_SESSION_KEYS": testSecret + ",c2hvcnQta2V5"}, []string{"LATCH_PREVIOUS_SESSION_KEYS, key 2", "fewer than 32 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("LATCH_SESSION_KEY", sessionKey)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := latch.ConfigFromEnv()
			if err == nil {
				_, err = latch.New(bg, cfg)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, k := range []string{"LATCH_JWT_SECRET", "LATCH_SESSION_KEY", "LATCH_PREVIOUS_SESSION_KEYS"} {
				if s := c.env[k]; s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q echoes %s", err, k)
				}
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.json")
	// The "http" member is latchhttp's: the core skips it, whatever it holds.
	os.WriteFile(path, []byte(`{"mode":"jwt","session_key":"`+sessionKey+`","jwt":{"secret":"`+testSecret+`","audience":"api"},"refresh_ttl":"14d","http":{"locations":["cookie"],"not_a_setting":1}}`), 0o600)
	c, err := latch.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != latch.ModeJWT || c.JWT.Audience != "api" || c.RefreshTTL.D() != 14*24*time.Hour {
		t.Errorf("config = %+v", c)
	}
	if _, err := latch.New(bg, c); err != nil {
		t.Fatal(err)
	}
	// Environment overrides the file.
	t.Setenv("LATCH_CONFIG_FILE", path)
	t.Setenv("LATCH_MODE", "hybrid")
	c, err = latch.ConfigFromEnv()
	if err != nil || c.Mode != latch.ModeHybrid || c.JWT.Audience != "api" {
		t.Errorf("env over file: %+v, %v", c, err)
	}
	// A misspelt field is an error, not silence, at the top and inside
	// jwt; so is a member only latchhttp's part of the file holds.
	for field, doc := range map[string]string{
		"mdoe":      `{"mdoe":"jwt"}`,
		"secert":    `{"jwt":{"secert":"x"}}`,
		"locations": `{"locations":["cookie"]}`,
	} {
		os.WriteFile(path, []byte(doc), 0o600)
		if _, err := latch.LoadConfigFile(path); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("unknown field %s: %v", field, err)
		}
	}
	os.WriteFile(path, []byte(`{"access_ttl":900}`), 0o600)
	if _, err := latch.LoadConfigFile(path); err == nil {
		t.Error("numeric duration accepted")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := latch.Config{SessionKey: sessionKey, PreviousSessionKeys: []latch.Secret{testSecret}}
	c.JWT.Secret = latch.Secret(testSecret)
	for _, s := range []string{fmtSprint(c), fmtSprintV(c), jsonString(c)} {
		if strings.Contains(s, testSecret) || strings.Contains(s, sessionKey) {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestKeyFileAndJWKS(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	path := filepath.Join(dir, "key.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	t.Setenv("LATCH_MODE", "jwt")
	t.Setenv("LATCH_SESSION_KEY", sessionKey)
	t.Setenv("LATCH_JWT_KEY_FILE", path)
	cfg, err := latch.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	a, err := latch.New(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := a.Login(bg, "alice", latch.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tk.AccessToken, ".")[0])
	if !strings.Contains(string(hdr), `"alg":"EdDSA"`) {
		t.Errorf("header = %s, want EdDSA", hdr)
	}
	if _, err := a.Authenticate(bg, tk.AccessToken, access); err != nil {
		t.Fatal(err)
	}
	doc := a.Keyring().JWKS()
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(doc, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS = %s, %v", doc, err)
	}
	k := set.Keys[0]
	pub := priv.Public().(ed25519.PublicKey)
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.X != base64.RawURLEncoding.EncodeToString(pub) {
		t.Errorf("JWKS key = %+v", k)
	}
	// An algorithm that does not fit the key is refused at start-up.
	t.Setenv("LATCH_JWT_ALG", "RS256")
	cfg, _ = latch.ConfigFromEnv()
	if _, err := latch.New(bg, cfg); err == nil {
		t.Error("EdDSA key accepted with LATCH_JWT_ALG=RS256")
	}
}

func TestSecretAlgorithms(t *testing.T) {
	key48 := base64.StdEncoding.EncodeToString(randomBytes(48))
	cases := []struct {
		alg, secret string
		ok          bool
	}{
		{"HS256", testSecret, true},
		{"HS384", testSecret, false}, // 32 bytes is too short for HS384
		{"HS384", key48, true},
		{"HS512", key48, false},
		{"RS256", testSecret, false}, // a secret is never an RSA key
		{"none", testSecret, false},
	}
	for _, c := range cases {
		cfg := latch.Config{SessionKey: sessionKey, Mode: latch.ModeJWT}
		cfg.JWT.Secret, cfg.JWT.Alg = latch.Secret(c.secret), c.alg
		_, err := latch.New(bg, cfg)
		if (err == nil) != c.ok {
			t.Errorf("%s with %d-byte secret: err = %v, want ok=%v", c.alg, len(c.secret)*3/4, err, c.ok)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestStoreURLNeverPrintsPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:hunter2@cache:6379/0",
		"redis://hunter2@cache:6379/0",
		"postgres://u@db/app?password=hunter2",
		"sqlite:latch.db?_auth_pass=hunter2",
		"host=db password=hunter2",
	} {
		c := latch.Config{SessionKey: sessionKey, Store: latch.StoreURL(u)}
		for _, s := range []string{fmtSprint(c), fmtSprintV(c), jsonString(c), c.Store.String()} {
			if strings.Contains(s, "hunter2") {
				t.Errorf("store password printed: %s", s)
			}
		}
	}
	if got := latch.StoreURL("redis://:pw@cache:6379/0").String(); got != "redis://cache:6379/0" {
		t.Errorf("String() = %q, want scheme, host and path", got)
	}
	var back latch.Config
	if err := json.Unmarshal([]byte(`{"store":"redis://:hunter2@cache:6379/0"}`), &back); err != nil || string(back.Store) != "redis://:hunter2@cache:6379/0" {
		t.Errorf("reading a store URL from JSON: %q, %v", back.Store, err)
	}
}

func TestDefaultIdentity(t *testing.T) {
	type id int32
	for _, c := range []struct {
		user any
		want string
	}{{"alice", "alice"}, {42, "42"}, {int64(-7), "-7"}, {uint8(9), "9"}, {id(5), "5"}, {uint(3), "3"}} {
		a, _ := latch.New(bg, latch.Config{SessionKey: sessionKey})
		tk, err := a.Login(bg, c.user, latch.LoginOptions{})
		if err != nil {
			t.Errorf("Login(%T): %v", c.user, err)
			continue
		}
		p, _ := a.Authenticate(bg, tk.AccessToken, access)
		if p.Subject != c.want {
			t.Errorf("Login(%T %v) subject %q, want %q", c.user, c.user, p.Subject, c.want)
		}
	}
	// A fmt.Stringer is no identity by default: its String is often a
	// display name, and two users sharing one would share sessions.
	a, _ := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if tk, err := a.Login(bg, displayName("Alice"), latch.LoginOptions{}); err == nil || latch.Kind(err) != nil {
		t.Errorf("Login(a fmt.Stringer) = %+v, %v; want a plain error", tk, err)
	}
}

// displayName is a fmt.Stringer, as a user type with a display name is.
type displayName string

func (d displayName) String() string { return "User " + string(d) }

// TestKeyringAndSecret: a keyring and a configured secret or key file at
// once are refused, naming both, so the operator who set the secret never
// believes it in use while another key signs.
func TestKeyringAndSecret(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil)
	for name, edit := range map[string]func(*latch.Config){
		"secret":   func(c *latch.Config) {},
		"key file": func(c *latch.Config) { c.JWT.Secret = ""; c.JWT.KeyFile = "/nonexistent.pem" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.Auth.Config()
			edit(&cfg)
			_, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithKeyring(e.Auth.Keyring()))
			if err == nil || !strings.Contains(err.Error(), "WithKeyring") {
				t.Errorf("New = %v, want an error naming WithKeyring", err)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		edit func(*latch.Config)
		want string
	}{
		{"touch interval too long", func(c *latch.Config) { c.TouchInterval = latch.Duration(20 * 24 * time.Hour) }, "Config.TouchInterval must be at most half of Config.RefreshTTL"},
		{"keep_spent too large", func(c *latch.Config) { c.KeepSpent = 500 }, "Config.KeepSpent must be between 1 and 100"},
		{"reuse grace too long", func(c *latch.Config) { c.ReuseGrace = latch.Duration(time.Hour) }, "Config.ReuseGrace 1h0m0s is over 1m"},
		{"leeway too long", func(c *latch.Config) { c.JWT.Leeway = latch.Duration(time.Hour) }, "Config.JWT.Leeway 1h0m0s is over 5m"},
		{"delegation over session", func(c *latch.Config) { c.DelegationTTL = latch.Duration(100 * 24 * time.Hour) }, "Config.DelegationTTL must not exceed Config.SessionTTL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := latch.Config{SessionKey: sessionKey}
			c.edit(&cfg)
			if _, err := latch.New(bg, cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error about %s", err, c.want)
			}
		})
	}
	// Mode is case-insensitive in code as in the environment.
	if a, err := latch.New(bg, latch.Config{SessionKey: sessionKey, Mode: "OPAQUE"}); err != nil || a.Config().Mode != latch.ModeOpaque {
		t.Errorf("Mode OPAQUE: %v", err)
	}
}

// TestConfigErrorsNameTheSetting: an error about a setting names it the
// way the user sets it: its environment variable for a Config from
// ConfigFromEnv, its key in the file (jwt.secret in app.json) for one from
// LoadConfigFile, and its Go field (Config.JWT.Secret) for one made in
// code, or for a setting that code changed after loading. That holds for
// the signing key's errors (keyFromConfig) and for validate's, for a
// setting that was given and for one left unset.
func TestConfigErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	file := func(doc string) string {
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+fmt.Sprint(len(doc))+".json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fromEnv := func(env map[string]string) func(*testing.T) (latch.Config, string) {
		return func(t *testing.T) (latch.Config, string) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			cfg, err := latch.ConfigFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			return cfg, env["LATCH_CONFIG_FILE"]
		}
	}
	fromFile := func(doc string) func(*testing.T) (latch.Config, string) {
		return func(t *testing.T) (latch.Config, string) {
			path := file(doc)
			cfg, err := latch.LoadConfigFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return cfg, path
		}
	}
	inCode := func(edit func(*latch.Config)) func(*testing.T) (latch.Config, string) {
		return func(*testing.T) (latch.Config, string) {
			var cfg latch.Config
			edit(&cfg)
			return cfg, ""
		}
	}
	const short = "c2hvcnQ=" // "short": too short for HS256
	for _, c := range []struct {
		name  string
		load  func(*testing.T) (latch.Config, string)
		edit  func(*latch.Config) // after loading, as code does
		want  []string            // $F is the file's path
		never []string
	}{
		{"env: bad secret", fromEnv(map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": short}), nil,
			[]string{"latch: LATCH_JWT_SECRET: "}, []string{"Config.", " in "}},
		{"env: no key", fromEnv(map[string]string{"LATCH_MODE": "jwt"}), nil,
			[]string{"set LATCH_JWT_SECRET (generate one with: openssl rand -base64 32) or LATCH_JWT_KEY_FILE"}, []string{"Config."}},
		{"env: secret and key file", fromEnv(map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": testSecret, "LATCH_JWT_KEY_FILE": "k.pem"}), nil,
			[]string{"set LATCH_JWT_SECRET or LATCH_JWT_KEY_FILE, not both"}, nil},
		{"env: validate, given and unset", fromEnv(map[string]string{"LATCH_ACCESS_TTL": "100d"}), nil,
			[]string{"LATCH_ACCESS_TTL and LATCH_REFRESH_TTL must not exceed LATCH_SESSION_TTL"}, []string{"Config."}},
		{"file: bad secret", fromFile(`{"mode":"jwt","jwt":{"secret":"` + short + `"}}`), nil,
			[]string{"latch: jwt.secret in $F: "}, []string{"Config.", "LATCH_"}},
		{"file: no key", fromFile(`{"mode":"jwt"}`), nil,
			[]string{"set jwt.secret in $F (generate one with: openssl rand -base64 32) or jwt.key_file in $F"}, []string{"Config.", "LATCH_"}},
		{"file: validate", fromFile(`{"reuse_grace":"2m","touch_interval":"20d"}`), nil,
			[]string{"reuse_grace in $F 2m0s is over 1m", "touch_interval in $F must be at most half of refresh_ttl in $F"}, []string{"Config.", "LATCH_"}},
		{"code: bad secret", inCode(func(c *latch.Config) { c.Mode, c.JWT.Secret = latch.ModeJWT, short }), nil,
			[]string{"latch: Config.JWT.Secret: "}, []string{"LATCH_", " in "}},
		{"code: no key", inCode(func(c *latch.Config) { c.Mode = latch.ModeHybrid }), nil,
			[]string{"set Config.JWT.Secret (generate one with: openssl rand -base64 32) or Config.JWT.KeyFile"}, []string{"LATCH_"}},
		{"code: validate", inCode(func(c *latch.Config) { c.MaxSessions, c.FreshTTL = -1, -1 }), nil,
			[]string{"Config.MaxSessions must not be negative", "Config.FreshTTL must not be negative"}, []string{"LATCH_"}},
		{"env, then a given setting changed in code", fromEnv(map[string]string{"LATCH_MODE": "jwt", "LATCH_JWT_SECRET": testSecret}),
			func(c *latch.Config) { c.JWT.Secret = short },
			[]string{"latch: Config.JWT.Secret: "}, []string{"LATCH_"}},
		{"env, then an unset setting set in code", fromEnv(map[string]string{"LATCH_MODE": "opaque"}),
			func(c *latch.Config) { c.ReuseGrace = latch.Duration(time.Hour) },
			[]string{"Config.ReuseGrace 1h0m0s is over 1m"}, []string{"LATCH_"}},
		{"env over a file, each named its way", fromEnv(map[string]string{
			"LATCH_CONFIG_FILE": file(`{"reuse_grace":"2m"}`), "LATCH_JWT_LEEWAY": "1h"}), nil,
			[]string{"reuse_grace in $F 2m0s is over 1m", "LATCH_JWT_LEEWAY 1h0m0s is over 5m"}, []string{"Config."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, path := c.load(t)
			if c.edit != nil {
				c.edit(&cfg)
			}
			_, err := latch.New(bg, cfg)
			if err == nil {
				t.Fatal("New accepted the configuration")
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "$F", path); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, n := range c.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q names a setting as %q: not the way it was given", err, n)
				}
			}
		})
	}
}
