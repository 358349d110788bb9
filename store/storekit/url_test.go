package storekit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

var spec = &storekit.URLSpec{
	Store:    "kvstore",
	Schemes:  []string{"kv", "kv+tls"},
	Params:   []string{"latch_prefix", "latch_key", "latch_old_key", "latch_conns", storekit.ParamSweepInterval, storekit.ParamSweepGrace},
	Repeated: []string{"latch_old_key"},
	Secret:   []string{"latch_key", "latch_old_key"},
	Invalid:  errInvalid,
}

func TestParse(t *testing.T) {
	u, err := spec.Parse("KV+TLS://user:pa55word@db:7000/3?timeout=2s&Latch_Prefix=app_&latch_old_key=a&latch_old_key=b")
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "kv+tls" || u.Where() != "kv+tls://db:7000" {
		t.Errorf("Scheme %q, Where %q", u.Scheme, u.Where())
	}
	if got := u.Rest.String(); got != "kv+tls://user:pa55word@db:7000/3?timeout=2s" {
		t.Errorf("Rest = %s: want the latch_ parameters gone, the rest kept", got)
	}
	if u.Value("latch_prefix") != "app_" || strings.Join(u.Values("latch_old_key"), ",") != "a,b" || u.Has("latch_key") {
		t.Errorf("parameters: prefix %q, old keys %q, key given %v", u.Value("latch_prefix"), u.Values("latch_old_key"), u.Has("latch_key"))
	}

	// Without latch_ parameters the query is left exactly as written.
	u, err = spec.Parse("kv:file.db?b=2&a=1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Rest.String() != "kv:file.db?b=2&a=1" || u.Where() != "kv:" {
		t.Errorf("Rest %s, Where %s", u.Rest, u.Where())
	}
}

func TestParseRefusals(t *testing.T) {
	const secret = "pa55word-s3cr3t"
	for _, raw := range []string{
		"",
		"user:" + secret + "@db",        // no scheme: the user name is not quoted as one
		"redis://:" + secret + "@db",    // another store's scheme
		"kv://:" + secret + "@db:1/%zz", // does not parse
		"kv://:" + secret + "@db?latch_prefix=a;b",              // ';' separator
		"kv://:" + secret + "@db?latch_prefix=%zz",              // bad escape
		"kv://:" + secret + "@db?latch_unknown=1",               // not the store's
		"kv://:" + secret + "@db?latch_prefix=a&latch_prefix=b", // not repeatable
	} {
		u, err := spec.Parse(raw)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", raw, u)
			continue
		}
		if !errors.Is(err, errInvalid) || !strings.HasPrefix(err.Error(), "kvstore: open: kvstore: invalid value: ") {
			t.Errorf("Parse(%q) = %v, want kvstore's ErrInvalid", raw, err)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "db") {
			t.Errorf("Parse(%q) = %v: quotes the URL", raw, err)
		}
	}
}

func TestConfigure(t *testing.T) {
	var conns int
	own := func(u *storekit.URL) error {
		if p := u.Value("latch_prefix"); p != "" {
			if err := withPrefix(p)(nil); err != nil {
				return err
			}
		}
		n, _, err := u.Int("latch_conns")
		conns = n
		return err
	}
	var c config
	u, err := storekit.Configure(spec, "kv://db?latch_sweep_interval=1h&latch_sweep_grace=2m&latch_conns=4", &c, own,
		storekit.WithSweepGrace[*config](time.Minute)) // the caller's options win
	if err != nil {
		t.Fatal(err)
	}
	if c.SweepInterval != time.Hour || c.SweepGrace != time.Minute || conns != 4 || u.Rest.RawQuery != "" {
		t.Errorf("config %+v, conns %d, rest %s", c.Options, conns, u.Rest)
	}

	const key = "routing-key-s3cr3t"
	for _, raw := range []string{
		"kv://:pa55word@db?latch_key=" + key + "&latch_sweep_interval=ten",
		"kv://:pa55word@db?latch_key=" + key + "&latch_sweep_grace=-1s",
		"kv://:pa55word@db?latch_key=" + key + "&latch_conns=0",
	} {
		_, err := storekit.Configure[*config, Option](spec, raw, &config{}, own)
		if !errors.Is(err, errInvalid) || !strings.HasPrefix(err.Error(), "kvstore: open kv://db: kvstore: invalid value: ") {
			t.Errorf("Configure(%q) = %v, want kvstore's ErrInvalid naming kv://db", raw, err)
		}
	}
	_, err = storekit.Configure(spec, "kv://db", &config{}, own, withPrefix(""))
	if !errors.Is(err, errInvalid) {
		t.Errorf("Configure with a refused option = %v, want ErrInvalid", err)
	}
}

// TestOpenError: the error of a failed open names the store and the host,
// never the password or a secret parameter, however the driver quotes
// them.
func TestOpenError(t *testing.T) {
	const raw = "kv://user:p%40ss-w0rd@db:7000?latch_key=k3y%2Bs3cr3t-0123&latch_old_key=old-s3cr3t-k3y"
	u, err := spec.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, quoted := range []string{raw, "p@ss-w0rd", "p%40ss-w0rd", "k3y+s3cr3t-0123", "k3y%2Bs3cr3t-0123", "old-s3cr3t-k3y", u.Rest.String()} {
		err := u.OpenError(errors.New("driver says: " + quoted))
		if !strings.HasPrefix(err.Error(), "kvstore: open kv://db:7000: driver says: ") {
			t.Errorf("OpenError = %q: want the store and the host", err)
		}
		for _, s := range []string{"p@ss", "p%40ss", "s3cr3t"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("OpenError of a message quoting %q = %q", quoted, err)
			}
		}
	}
	if u.OpenError(nil) != nil {
		t.Error("OpenError(nil) is not nil")
	}
	// A URL that holds no secret is not hidden from its own message.
	for _, raw := range []string{"kv://db", "kv://db?latch_prefix=p_"} {
		u, err := spec.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.OpenError(errors.New("cannot reach kv://db")); err.Error() != "kvstore: open kv://db: cannot reach kv://db" {
			t.Errorf("OpenError for %s = %q", raw, err)
		}
	}
}
