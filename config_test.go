package latch_test

import (
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
		{"bad duration", map[string]string{"LATCH_ACCESS_TTL": "soon"}, []string{"LATCH_ACCESS_TTL"}},
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
