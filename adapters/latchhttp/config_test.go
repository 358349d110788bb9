package latchhttp_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// TestConfigFromEnv: the HTTP settings come from the "http" member of
// LATCH_CONFIG_FILE's file, then from LATCH_TOKEN_LOCATION and
// LATCH_COOKIE_INSECURE, which win; the core's variables are not read.
func TestConfigFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.json")
	os.WriteFile(path, []byte(`{"mode":"jwt","http":{"realm":"api","locations":["json"],"cookie":{"same_site":"strict","access_name":"a"}}}`), 0o600)
	t.Setenv("LATCH_CONFIG_FILE", path)
	t.Setenv("LATCH_MODE", "not a mode") // the core's
	c, err := latchhttp.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm != "api" || !slices.Equal(c.Locations, []latchhttp.Location{latchhttp.InJSON}) ||
		c.Cookie.SameSite != "strict" || c.Cookie.AccessName != "a" || c.Cookie.Insecure {
		t.Errorf("from the file: %+v", c)
	}
	t.Setenv("LATCH_TOKEN_LOCATION", " header, COOKIE")
	t.Setenv("LATCH_COOKIE_INSECURE", "true")
	c, err = latchhttp.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm != "api" || !slices.Equal(c.Locations, []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie}) ||
		c.Cookie.SameSite != "strict" || !c.Cookie.Insecure {
		t.Errorf("the environment over the file: %+v", c)
	}
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	web, err := latchhttp.New(core, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := web.Config(); got.HeaderName != "Authorization" || got.Cookie.CSRFHeader != "X-CSRF-Token" || got.Realm != "api" {
		t.Errorf("Config() = %+v, want the defaults filled in", got)
	}
}

// TestLoadConfigFile: latchhttp reads the "http" member of latch's
// configuration file, strictly (a misspelt setting inside it is an error
// naming it), and nothing else: the core's members are the core's. A file
// without the member is the zero Config.
func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(doc string) string {
		path := filepath.Join(dir, "latch.json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write(`{"mode":"jwt","mdoe":"the core's to refuse","http":{"locations":["cookie"],"max_body_bytes":1024,"cookie":{"refresh_path":"/auth"}}}`)
	c, err := latchhttp.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Locations, []latchhttp.Location{latchhttp.InCookie}) || c.MaxBodyBytes != 1024 || c.Cookie.RefreshPath != "/auth" {
		t.Errorf("config = %+v", c)
	}
	if c, err := latchhttp.LoadConfigFile(write(`{"mode":"jwt"}`)); err != nil || c.Realm != "" || c.Locations != nil {
		t.Errorf("a file without http: %+v, %v; want the zero Config", c, err)
	}
	for _, c := range []struct{ doc, want string }{
		{`{"http":{"locatoins":["cookie"]}}`, "locatoins"},
		{`{"http":{"cookie":{"same_stie":"lax"}}}`, "same_stie"},
		{`{"http":{"mode":"jwt"}}`, "mode"},
		{`{"http":{"max_body_bytes":"1k"}}`, "max_body_bytes"},
		{`{"http":[]}`, "http"},
		{`{"http":{}} trailing`, "trailing"},
		{`not JSON`, "config file"},
	} {
		path := write(c.doc)
		_, err := latchhttp.LoadConfigFile(path)
		if err == nil || !strings.HasPrefix(err.Error(), "latchhttp: config file") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error of latchhttp about %s", c.doc, err, c.want)
		}
	}
	if _, err := latchhttp.LoadConfigFile(filepath.Join(dir, "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "latchhttp: ") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestConfigErrors: a bad HTTP setting from the environment is refused
// when it is read, before anything is opened, naming it; New refuses the
// same Config.
func TestConfigErrors(t *testing.T) {
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad location", map[string]string{"LATCH_TOKEN_LOCATION": "header,url"}, `location "url"`},
		{"empty location", map[string]string{"LATCH_TOKEN_LOCATION": "header,,cookie"}, `location ""`},
		{"bad insecure", map[string]string{"LATCH_COOKIE_INSECURE": "maybe"}, `LATCH_COOKIE_INSECURE="maybe"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := latchhttp.ConfigFromEnv()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "latchhttp: ") {
				t.Errorf("ConfigFromEnv: error %v, want one of latchhttp mentioning %s", err, c.want)
			}
			if c.env["LATCH_COOKIE_INSECURE"] != "" {
				return // the value did not parse: nothing for New to refuse
			}
			if _, err := latchhttp.New(core, cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: error %v, want one mentioning %s", err, c.want)
			}
		})
	}
}

// TestConfigValidation: New refuses an HTTP configuration that cannot
// work, naming every problem.
func TestConfigValidation(t *testing.T) {
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(*latchhttp.Config)
		want string
	}{
		{"cookie names collide", func(c *latchhttp.Config) { c.Cookie.CSRFRefreshName = "latch_csrf_access" }, "cookie names"},
		{"same_site none without Secure", func(c *latchhttp.Config) { c.Cookie.SameSite, c.Cookie.Insecure = "none", true }, "same_site"},
		{"unknown same_site", func(c *latchhttp.Config) { c.Cookie.SameSite = "sometimes" }, `same_site "sometimes"`},
		{"no CSRF check with lax cookies", func(c *latchhttp.Config) { c.Cookie.DisableCSRF = true }, "disable_csrf needs same_site strict"},
		{"no CSRF check with cross-site cookies", func(c *latchhttp.Config) { c.Cookie.DisableCSRF, c.Cookie.SameSite = true, "none" }, "disable_csrf needs same_site strict"},
		{"negative body limit", func(c *latchhttp.Config) { c.MaxBodyBytes = -1 }, "max_body_bytes"},
		{"Authorization without a scheme", func(c *latchhttp.Config) { c.HeaderName, c.HeaderScheme = "authorization", "" }, "needs a scheme"},
		{"unknown location", func(c *latchhttp.Config) { c.Locations = []latchhttp.Location{"body"} }, `location "body"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg latchhttp.Config
			c.edit(&cfg)
			if _, err := latchhttp.New(core, cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error about %s", err, c.want)
			}
		})
	}
	if _, err := latchhttp.New(nil, latchhttp.Config{}); err == nil {
		t.Error("New without a core accepted")
	}
	// Two problems, both named.
	_, err = latchhttp.New(core, latchhttp.Config{MaxBodyBytes: -1, Locations: []latchhttp.Location{"url"}})
	if err == nil || !strings.Contains(err.Error(), "max_body_bytes") || !strings.Contains(err.Error(), `"url"`) {
		t.Errorf("New = %v, want both problems named", err)
	}
}

// TestConfigIsCopied: New keeps a copy of the Config it is given, and
// Config returns a copy: changing the caller's slice after New, or the
// one Config returned, changes neither the configuration in force nor
// where requests are read from (and cannot slip an unchecked location
// past New).
func TestConfigIsCopied(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	cfg := latchhttp.Config{Locations: []latchhttp.Location{latchhttp.InHeader}}
	web, err := latchhttp.New(e.Auth, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Locations[0] = "bogus"
	web.Config().Locations[0] = latchhttp.InQuery
	if got := web.Config().Locations; !slices.Equal(got, []latchhttp.Location{latchhttp.InHeader}) {
		t.Errorf("Locations in force: %v, want [header]", got)
	}
	h := web.Middleware(latchhttp.Required())(okHandler)
	if w := do(h, "GET", "/", bearer(tk.AccessToken), ""); w.Code != 200 {
		t.Errorf("a header token: %d, want 200", w.Code)
	}
	if w := do(h, "GET", "/?access_token="+tk.AccessToken, nil, ""); w.Code != 401 {
		t.Errorf("a query token: %d, want 401: the query location is not configured", w.Code)
	}
}

// FuzzLoadConfig feeds LoadConfigFile arbitrary files, and New what it
// accepts: nothing panics, every error says it is latchhttp's, and an
// Auth New accepts reads tokens only from the four locations.
func FuzzLoadConfig(f *testing.F) {
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{}`)
	f.Add(`{"mode":"jwt","http":{"locations":["header","cookie","query","json"],"header_name":"X-Token","header_scheme":""}}`)
	f.Add(`{"http":{"cookie":{"same_site":"none","insecure":true,"access_name":"a","refresh_name":"a"}}}`)
	f.Add(`{"http":{"max_body_bytes":-1,"locations":["url",""]}}`)
	f.Add(`{"http":{"max_body_bytes":1e400}}`)
	f.Add(`{"http":null}`)
	f.Add(strings.Repeat(`{"http":`, 500) + `{}` + strings.Repeat(`}`, 500))
	f.Fuzz(func(t *testing.T, doc string) {
		path := filepath.Join(t.TempDir(), "latch.json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := latchhttp.LoadConfigFile(path)
		if err == nil {
			var web *latchhttp.Auth
			if web, err = latchhttp.New(core, cfg); err == nil {
				for _, l := range web.Config().Locations {
					if !slices.Contains([]latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie, latchhttp.InQuery, latchhttp.InJSON}, l) {
						t.Fatalf("New accepted the location %q", l)
					}
				}
				return
			}
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "latchhttp: ") {
				t.Fatalf("error line %q does not say where it comes from", line)
			}
		}
	})
}
