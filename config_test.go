package latch_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("LATCH_MODE", "HYBRID")
	t.Setenv("LATCH_JWT_SECRET", testSecret)
	t.Setenv("LATCH_JWT_ISSUER", "https://id.example")
	t.Setenv("LATCH_ACCESS_TTL", "5m")
	t.Setenv("LATCH_REFRESH_TTL", "7d")
	t.Setenv("LATCH_MAX_SESSIONS", "3")
	t.Setenv("LATCH_SESSION_CHECK", "true")
	t.Setenv("LATCH_TOKEN_LOCATION", "header, cookie")
	c, err := latch.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != latch.ModeHybrid || c.JWT.Issuer != "https://id.example" || c.AccessTTL.D() != 5*time.Minute ||
		c.RefreshTTL.D() != 7*24*time.Hour || c.MaxSessions != 3 || !c.SessionCheck ||
		len(c.HTTP.Locations) != 2 || c.HTTP.Locations[1] != latch.InCookie {
		t.Errorf("config = %+v", c)
	}
	a, err := latch.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != latch.ModeHybrid || a.Keyring() == nil {
		t.Errorf("mode %s, keyring %v", a.Mode(), a.Keyring())
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
		{"bad mode", map[string]string{"LATCH_MODE": "session"}, []string{`mode "session"`}},
		{"bad duration", map[string]string{"LATCH_ACCESS_TTL": "soon"}, []string{`latch: LATCH_ACCESS_TTL="soon": duration "soon": use a form such as 15m`}},
		{"bad max", map[string]string{"LATCH_MAX_SESSIONS": "-1"}, []string{"LATCH_MAX_SESSIONS"}},
		{"bad location", map[string]string{"LATCH_TOKEN_LOCATION": "header,url"}, []string{`location "url"`}},
		{"unknown store", map[string]string{"LATCH_STORE": "cassandra://x"}, []string{`"cassandra"`, "memory"}},
		{"access longer than session", map[string]string{"LATCH_ACCESS_TTL": "100d"}, []string{"session_ttl"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := latch.ConfigFromEnv()
			if err == nil {
				_, err = latch.New(cfg)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if s := c.env["LATCH_JWT_SECRET"]; s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.json")
	os.WriteFile(path, []byte(`{"mode":"jwt","jwt":{"secret":"`+testSecret+`","audience":"api"},"refresh_ttl":"14d","http":{"locations":["cookie"]}}`), 0o600)
	c, err := latch.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != latch.ModeJWT || c.JWT.Audience != "api" || c.RefreshTTL.D() != 14*24*time.Hour || c.HTTP.Locations[0] != latch.InCookie {
		t.Errorf("config = %+v", c)
	}
	if _, err := latch.New(c); err != nil {
		t.Fatal(err)
	}
	// Environment overrides the file.
	t.Setenv("LATCH_CONFIG_FILE", path)
	t.Setenv("LATCH_MODE", "hybrid")
	c, err = latch.ConfigFromEnv()
	if err != nil || c.Mode != latch.ModeHybrid || c.JWT.Audience != "api" {
		t.Errorf("env over file: %+v, %v", c, err)
	}
	// A misspelt field is an error, not silence.
	os.WriteFile(path, []byte(`{"mdoe":"jwt"}`), 0o600)
	if _, err := latch.LoadConfigFile(path); err == nil || !strings.Contains(err.Error(), "mdoe") {
		t.Errorf("unknown field: %v", err)
	}
	os.WriteFile(path, []byte(`{"access_ttl":900}`), 0o600)
	if _, err := latch.LoadConfigFile(path); err == nil {
		t.Error("numeric duration accepted")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := latch.Config{}
	c.JWT.Secret = latch.Secret(testSecret)
	for _, s := range []string{fmtSprint(c), fmtSprintV(c), jsonString(c)} {
		if strings.Contains(s, testSecret) {
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
	t.Setenv("LATCH_JWT_KEY_FILE", path)
	cfg, err := latch.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	a, err := latch.New(cfg)
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
	if _, err := a.Verify(bg, tk.AccessToken, latch.Access); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.Keyring().JWKS().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS = %s, %v", w.Body, err)
	}
	k := set.Keys[0]
	pub := priv.Public().(ed25519.PublicKey)
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.X != base64.RawURLEncoding.EncodeToString(pub) {
		t.Errorf("JWKS key = %+v", k)
	}
	// An algorithm that does not fit the key is refused at start-up.
	t.Setenv("LATCH_JWT_ALG", "RS256")
	cfg, _ = latch.ConfigFromEnv()
	if _, err := latch.New(cfg); err == nil {
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
		cfg := latch.Config{Mode: latch.ModeJWT}
		cfg.JWT.Secret, cfg.JWT.Alg = latch.Secret(c.secret), c.alg
		_, err := latch.New(cfg)
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
		c := latch.Config{Store: latch.StoreURL(u)}
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
		a, _ := latch.New(latch.Config{})
		tk, err := a.Login(bg, c.user, latch.LoginOptions{})
		if err != nil {
			t.Errorf("Login(%T): %v", c.user, err)
			continue
		}
		p, _ := a.Verify(bg, tk.AccessToken, latch.Access)
		if p.Subject != c.want {
			t.Errorf("Login(%T %v) subject %q, want %q", c.user, c.user, p.Subject, c.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		edit func(*latch.Config)
		want string
	}{
		{"touch interval too long", func(c *latch.Config) { c.TouchInterval = latch.Duration(20 * 24 * time.Hour) }, "touch_interval"},
		{"keep_spent too large", func(c *latch.Config) { c.KeepSpent = 500 }, "keep_spent"},
		{"reuse grace too long", func(c *latch.Config) { c.ReuseGrace = latch.Duration(time.Hour) }, "reuse_grace"},
		{"leeway too long", func(c *latch.Config) { c.JWT.Leeway = latch.Duration(time.Hour) }, "leeway"},
		{"cookie names collide", func(c *latch.Config) { c.HTTP.Cookie.CSRFRefreshName = "latch_csrf_access" }, "cookie names"},
		{"same_site none without Secure", func(c *latch.Config) {
			c.HTTP.Cookie.SameSite, c.HTTP.Cookie.Insecure = "none", true
		}, "same_site"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := latch.Config{}
			c.edit(&cfg)
			if _, err := latch.New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error about %s", err, c.want)
			}
		})
	}
	// Mode is case-insensitive in code as in the environment.
	if a, err := latch.New(latch.Config{Mode: "OPAQUE"}); err != nil || a.Mode() != latch.ModeOpaque {
		t.Errorf("Mode OPAQUE: %v", err)
	}
}

func TestInvalidGuardPanicsAtSetup(t *testing.T) {
	a, _ := latch.New(latch.Config{})
	for name, g := range map[string]latch.Guard{
		"type":     {Type: "id_token"},
		"location": {Locations: []latch.Location{"url"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("a Guard with a bad %s was accepted", name)
				}
			}()
			a.Middleware(g)
		}()
	}
}
