package latch_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

// The fuzz targets of configuration loading wrap the JWT secret and the
// store password the input supplies in these markers, so that a message
// quoting either, even in part, is caught without mistaking static text
// for a leak.
const (
	secretHead, secretTail = "Zq9Xk2Wm", "Qa5Ze3Rv"
	passwordHead           = "Pw7Rt4Yu"
)

// storeField and secretField find the store URL and a $SECRET JWT secret
// in a configuration file.
var (
	storeField  = regexp.MustCompile(`"store"\s*:\s*"([^"]*)"`)
	secretField = regexp.MustCompile(`"secret"\s*:\s*"\$SECRET"`)
)

// credentialSpot matches a store URL whose $PW sits where a credential
// belongs: the password of the user information, or a query value.
var credentialSpot = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:(//[^/?#]*:\$PW@|[^#]*[?&][^=&#]*=\$PW)`)

// keyFile writes an Ed25519 PEM key for the fuzz targets' key-file cases.
func keyFile(f *testing.F) string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		f.Fatal(err)
	}
	return path
}

// checkConfig runs what an application does with a loaded Config, New, and
// checks the properties every configuration must have: nothing panics, an
// error's every line names latch (or the store registry) as its source,
// and neither an error nor the Config printed or written as JSON carries a
// secret.
func checkConfig(t *testing.T, cfg latch.Config, loadErr error, secrets []string) {
	t.Helper()
	leaked := func(what, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Fatalf("%s carries the secret %q:\n%s", what, secret, s)
			}
		}
	}
	clear := func(err error) {
		t.Helper()
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "latch: ") && !strings.HasPrefix(line, "store: ") {
				t.Fatalf("error line %q does not say where it comes from", line)
			}
		}
		leaked("the error", err.Error())
	}
	if loadErr != nil {
		clear(loadErr)
		return
	}
	b, _ := json.Marshal(cfg)
	leaked("the Config as JSON", string(b))
	leaked("the Config printed", fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg))
	a, err := latch.New(bg, cfg)
	if err != nil {
		clear(err)
		return
	}
	defer a.Close()
	got := a.Config()
	b, _ = json.Marshal(got)
	leaked("Auth.Config as JSON", string(b))
	leaked("Auth.Config printed", fmt.Sprintf("%v %+v %#v", got, got, got))
	if got.Mode != latch.ModeOpaque && a.Keyring() == nil {
		t.Fatalf("mode %s without a keyring", got.Mode)
	}
}

// hasMarker reports whether s holds a marker of its own.
func hasMarker(s string) bool {
	return strings.Contains(s, secretHead) || strings.Contains(s, secretTail) || strings.Contains(s, passwordHead)
}

// passwordIn returns the password to look for if store put it where a
// credential belongs, and nothing otherwise.
func passwordIn(store, password string) []string {
	if strings.Contains(store, "$PW") && credentialSpot.MatchString(store) {
		return []string{passwordHead, password}
	}
	return nil
}

// FuzzLoadConfig feeds LoadConfigFile arbitrary files (whose "http"
// member is latchhttp's, and skipped). $SECRET and $PW in
// the file stand for a marked JWT secret and store password; the secret
// must not appear in any error or printed Config, nor the password when
// it sits in a credential's place of the store URL.
func FuzzLoadConfig(f *testing.F) {
	key := keyFile(f)
	f.Add(`{}`, "", "")
	f.Add(`{"mode":"jwt","jwt":{"secret":"$SECRET"}}`, "PHrOsleoFJ5Q7TGF8Q/D+sYT2gG6", "pw")
	f.Add(`{"mode":"hybrid","store":"redis://:$PW@cache:6379/0","jwt":{"secret":"$SECRET","alg":"HS512"}}`, "short", "hunter2")
	f.Add(`{"store":"postgres://app:$PW@db/app?sslmode=disable"}`, "", "p@ss/w:rd#?")
	f.Add(`{"store":"sqlite:f.db?_auth_pass=$PW&x=1"}`, "", "s3cret")
	f.Add(`{"mode":"jwt","jwt":{"key_file":"key.pem","issuer":"https://id.example","audience":"api","leeway":"30s"}}`, "", "")
	f.Add(`{"access_ttl":"5m","refresh_ttl":"7d","session_ttl":"30d","fresh_ttl":"1m","touch_interval":"1m","max_sessions":3,"keep_spent":10,"reuse_grace":"2s","session_check":true,"store_timeout":"1s"}`, "", "")
	f.Add(`{"http":{"locations":["header","cookie","query","json"],"header_name":"X-Token","header_scheme":"","cookie":{"same_site":"none","insecure":true,"access_name":"a","refresh_name":"a"}}}`, "", "")
	f.Add(`{"mode":"JWT","access_ttl":"-1s","keep_spent":1000,"jwt":{"secret":"$SECRET","leeway":"1h"}} trailing`, "AAAA", "")
	f.Add(`{"unknown":1}`, "", "")
	f.Add(`{"max_sessions":1e400,"access_ttl":"99999999999999999999d"}`, "", "")
	f.Add(strings.Repeat(`{"http":`, 500)+`{}`+strings.Repeat(`}`, 500), "", "")
	f.Add("{\"mode\":\"op\x00aque\",\"jwt\":{\"issuer\":\"\u00e9\u202e\xff\"}}", "", "")
	f.Fuzz(func(t *testing.T, doc, secret, password string) {
		secret = secretHead + secret + secretTail
		password = passwordHead + password
		quoted := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
		// Only a secret and a password in their own places are checked:
		// a configuration may well quote its mode or a field name.
		var secrets []string
		if !hasMarker(doc) {
			if n := strings.Count(doc, "$SECRET"); n > 0 && len(secretField.FindAllStringIndex(doc, -1)) == n {
				secrets = append(secrets, secretHead, secretTail)
			}
			stores := storeField.FindAllStringSubmatch(doc, -1)
			if len(stores) == 1 && strings.Count(stores[0][1], "$PW") == strings.Count(doc, "$PW") {
				secrets = append(secrets, passwordIn(stores[0][1], password)...)
			}
		}
		doc = strings.ReplaceAll(doc, "$SECRET", quoted(secret))
		doc = strings.ReplaceAll(doc, "$PW", quoted(password))
		path := filepath.Join(t.TempDir(), "latch.json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := latch.LoadConfigFile(path)
		if err == nil && cfg.JWT.KeyFile != "" {
			cfg.JWT.KeyFile = key // read no file the input names
		}
		checkConfig(t, cfg, err, secrets)
	})
}

// envNames are the variables FuzzConfigFromEnv sets, in the order of its
// arguments. LATCH_CONFIG_FILE is FuzzLoadConfig's. The last two are
// latchhttp's, which the core must ignore, whatever they hold.
var envNames = []string{
	"LATCH_MODE", "LATCH_STORE", "LATCH_JWT_SECRET", "LATCH_JWT_KEY_FILE", "LATCH_JWT_ALG",
	"LATCH_JWT_ISSUER", "LATCH_JWT_AUDIENCE", "LATCH_JWT_LEEWAY", "LATCH_ACCESS_TTL",
	"LATCH_REFRESH_TTL", "LATCH_SESSION_TTL", "LATCH_FRESH_TTL", "LATCH_TOUCH_INTERVAL",
	"LATCH_STORE_TIMEOUT", "LATCH_REUSE_GRACE", "LATCH_MAX_SESSIONS", "LATCH_SESSION_CHECK",
	"LATCH_TOKEN_LOCATION", "LATCH_COOKIE_INSECURE",
}

// FuzzConfigFromEnv gives every LATCH_* variable an arbitrary value,
// through the lookup function behind ConfigFromEnv (so no process
// environment is touched). A variable is set when its value is non-empty
// or its bit in set is 1 (set and empty is not unset). The JWT secret is
// marked, $PW in the store URL stands for a marked password, and
// LATCH_JWT_KEY_FILE, when set, names a real key file.
func FuzzConfigFromEnv(f *testing.F) {
	key := keyFile(f)
	// More seeds, one per file, are in testdata/fuzz/FuzzConfigFromEnv.
	f.Add(uint32(0), "HYBRID", "memory:", "PHrOsleoFJ5Q7TGF8Q/D+sYT2gG6", "", "", "https://id.example", "", "", "5m",
		"7d", "", "", "", "", "", "3", "true", "header, cookie", "")
	f.Fuzz(func(t *testing.T, set uint32, mode, store, secret, keyFile, alg, issuer, audience, leeway, access, refresh, session, fresh, touch, storeTimeout, grace, maxSessions, check, locations, insecure string) {
		for _, v := range []string{mode, store, keyFile, alg, issuer, audience, leeway, access, refresh, session,
			fresh, touch, storeTimeout, grace, maxSessions, check, locations, insecure} {
			if hasMarker(v) {
				return // a marker in a setting that is no secret: nothing to check it against
			}
		}
		password := passwordHead + "pw"
		if secret != "" {
			secret = secretHead + secret + secretTail
		}
		vals := []string{mode, strings.ReplaceAll(store, "$PW", password), secret, keyFile, alg, issuer, audience, leeway, access,
			refresh, session, fresh, touch, storeTimeout, grace, maxSessions, check, locations, insecure}
		if keyFile != "" {
			vals[3] = key
		}
		env := map[string]string{}
		for i, n := range envNames {
			if vals[i] != "" || set&(1<<i) != 0 {
				env[n] = vals[i]
			}
		}
		secrets := append([]string{secretHead, secretTail}, passwordIn(store, password)...)
		cfg, err := latch.ConfigFrom(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
		checkConfig(t, cfg, err, secrets)
	})
}
