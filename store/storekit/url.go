package storekit

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The parameters every store with a sweeper takes; Configure turns them
// into Options.
const (
	ParamSweepInterval = "latch_sweep_interval" // a time.ParseDuration string; 0 runs no sweeper
	ParamSweepGrace    = "latch_sweep_grace"    // a time.ParseDuration string
)

// URLSpec describes the URLs a store's Open takes: schemes, and query
// parameters of its own, which start with latch_ and which the store
// takes out before the rest reaches its driver.
type URLSpec struct {
	// Store names the store in errors, as "sqlstore".
	Store string
	// Schemes are the URL schemes the store takes, in lower case. A URL's
	// scheme is compared in any case.
	Schemes []string
	// Params are the latch_ parameters the store takes, in lower case,
	// ParamSweepInterval and ParamSweepGrace included if it has a
	// sweeper. A URL may name them in any case; any other latch_
	// parameter is refused.
	Params []string
	// Repeated are those of Params that may be given more than once.
	Repeated []string
	// Secret are those of Params whose values no error may show, such as
	// keys.
	Secret []string
	// Invalid is the store's ErrInvalid, which every refusal wraps.
	Invalid error
}

// URL is a store URL as URLSpec.Parse takes it apart.
type URL struct {
	// Scheme is the URL's scheme, in lower case: one of the spec's.
	Scheme string
	// Rest is the URL without its latch_ parameters: what the driver
	// gets. Its query is encoded again only when latch_ parameters were
	// taken out of it.
	Rest *url.URL

	spec    *URLSpec
	params  url.Values // the latch_ parameters, by lower-case name
	secrets []string
}

// Parse checks rawURL against the spec and takes it apart. It refuses,
// with an error that wraps s.Invalid and quotes nothing of rawURL: a
// scheme that is not one of s.Schemes; a URL that does not parse; a query
// that does not parse as a whole (a ';' separator, a bad %-escape: a
// mistyped latch_ parameter must never fall back to a default); a latch_
// parameter that is not one of s.Params; and one given more than once
// that is not one of s.Repeated.
func (s *URLSpec) Parse(rawURL string) (*URL, error) {
	scheme, _, ok := strings.Cut(rawURL, ":")
	scheme = strings.ToLower(scheme)
	if !ok || !slices.Contains(s.Schemes, scheme) {
		return nil, s.refuse(fmt.Errorf("not a %s URL", strings.Join(s.Schemes, ":, ")+":"))
	}
	pu, err := url.Parse(rawURL)
	if err != nil {
		return nil, s.refuse(fmt.Errorf("the %s: URL does not parse (check its %%-escapes)", scheme))
	}
	q, err := url.ParseQuery(pu.RawQuery)
	if err != nil {
		return nil, s.refuse(fmt.Errorf("the %s: URL's query does not parse (a ';' separator or a bad %%-escape)", scheme))
	}
	u := &URL{Scheme: scheme, spec: s, params: url.Values{}}
	for k, v := range q {
		name := strings.ToLower(k)
		if !strings.HasPrefix(name, "latch_") {
			continue
		}
		if !slices.Contains(s.Params, name) {
			return nil, s.refuse(fmt.Errorf("unknown URL parameter %s (want %s)", name, strings.Join(s.Params, ", ")))
		}
		u.params[name] = append(u.params[name], v...)
		q.Del(k)
	}
	for name, v := range u.params {
		if len(v) > 1 && !slices.Contains(s.Repeated, name) {
			return nil, s.refuse(fmt.Errorf("URL parameter %s given %d times", name, len(v)))
		}
	}
	rest := *pu
	if len(u.params) > 0 {
		rest.RawQuery = q.Encode()
	}
	u.Rest = &rest
	u.secrets = secrets(rawURL, pu, &rest, s.Secret)
	return u, nil
}

// refuse is err as a refusal of the spec's store.
func (s *URLSpec) refuse(err error) error {
	return fmt.Errorf("%s: open: %w", s.Store, invalidErr(s.Invalid, err))
}

// secrets returns what no error about the URL may show: the URL, as
// written and as the driver gets it, when it holds user information or a
// query (otherwise it is no more than Where shows); its password as
// written and as each escaping writes it; and the values of the latch_
// parameters named in secret, as written and unescaped.
func secrets(raw string, u, rest *url.URL, secret []string) []string {
	var out []string
	for _, x := range []*url.URL{u, rest} {
		if x.User != nil || x.RawQuery != "" {
			out = append(out, x.String())
		}
	}
	if u.User != nil || u.RawQuery != "" {
		out = append(out, raw)
	}
	if pass, ok := u.User.Password(); ok {
		out = append(out, pass, url.QueryEscape(pass), url.PathEscape(pass),
			strings.TrimPrefix(url.UserPassword("", pass).String(), ":"))
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(k); err != nil || !slices.Contains(secret, strings.ToLower(name)) {
			continue
		}
		out = append(out, v)
		if x, err := url.QueryUnescape(v); err == nil {
			out = append(out, x)
		}
	}
	return out
}

// Has reports whether the URL gave the latch_ parameter name.
func (u *URL) Has(name string) bool { return len(u.params[name]) > 0 }

// Value returns the value of the latch_ parameter name, "" if not given.
func (u *URL) Value(name string) string { return u.params.Get(name) }

// Values returns every value of the latch_ parameter name, in the URL's
// order.
func (u *URL) Values(name string) []string { return u.params[name] }

// Duration returns the latch_ parameter name as a time.ParseDuration
// string, and whether it was given.
func (u *URL) Duration(name string) (time.Duration, bool, error) {
	if !u.Has(name) {
		return 0, false, nil
	}
	d, err := time.ParseDuration(u.Value(name))
	if err != nil {
		return 0, true, fmt.Errorf("%s is not a duration such as 10m", name)
	}
	return d, true, nil
}

// Int returns the latch_ parameter name as a positive integer, and
// whether it was given.
func (u *URL) Int(name string) (int, bool, error) {
	if !u.Has(name) {
		return 0, false, nil
	}
	n, err := strconv.Atoi(u.Value(name))
	if err != nil || n <= 0 {
		return 0, true, fmt.Errorf("%s is not a positive integer", name)
	}
	return n, true, nil
}

// Where names the URL in messages: its scheme and host, which hold no
// secret, or its scheme alone for a URL without a host (sqlite:file.db).
func (u *URL) Where() string {
	if u.Rest.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Rest.Host
}

// OpenError returns err, from opening the store u names, prefixed with
// the store and Where, and with every secret of the URL hidden (see
// Redact). A nil err stays nil.
func (u *URL) OpenError(err error) error {
	if err == nil {
		return nil
	}
	return Redact(fmt.Errorf("%s: open %s: %w", u.spec.Store, u.Where(), err), u.secrets...)
}

// Configure is the start of a store's Open. It parses rawURL with spec;
// sets c's Options from ParamSweepInterval and ParamSweepGrace; passes
// the URL to own, when not nil, which sets c from the store's own
// parameters; then applies opts, which win over the URL. Every refusal
// wraps spec.Invalid, and no error shows more of the URL than Where.
func Configure[C Config, O ~func(C) error](spec *URLSpec, rawURL string, c C, own func(*URL) error, opts ...O) (*URL, error) {
	u, err := spec.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if err := u.sweep(c); err != nil {
		return nil, u.OpenError(invalidErr(spec.Invalid, err))
	}
	if own != nil {
		if err := own(u); err != nil {
			return nil, u.OpenError(invalidErr(spec.Invalid, err))
		}
	}
	if err := Apply(c, spec.Invalid, opts...); err != nil {
		return nil, u.OpenError(err)
	}
	return u, nil
}

// sweep sets c from the shared sweep parameters.
func (u *URL) sweep(c Config) error {
	if err := u.SetDuration(ParamSweepInterval, func(d time.Duration) error { return WithSweepInterval[Config](d)(c) }); err != nil {
		return err
	}
	return u.SetDuration(ParamSweepGrace, func(d time.Duration) error { return WithSweepGrace[Config](d)(c) })
}

// SetDuration calls set with the latch_ parameter name, a
// time.ParseDuration string, when the URL gives it; set's refusal comes
// back prefixed with name.
func (u *URL) SetDuration(name string, set func(time.Duration) error) error {
	d, ok, err := u.Duration(name)
	if err != nil || !ok {
		return err
	}
	if err := set(d); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
