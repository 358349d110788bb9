package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

func init() {
	for _, scheme := range []string{"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"} {
		store.Register(scheme, openStore)
	}
}

// openStore is Open for store.Open, until Open takes the string itself.
func openStore(ctx context.Context, rawURL string) (store.Store, error) {
	u, err := url.Parse(rawURL) // store.Open parsed it already
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, u)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Open connects to the Redis u names, checks it answers (PING), and
// returns a Store that owns the client: its Close also closes the client.
// Opening is meant for configuration strings (LATCH_STORE); applications
// that hold a client use New. The schemes:
//
//	redis://user:pass@host:6379/0              one server (or a proxy), as redis.ParseURL takes it
//	rediss://user:pass@host:6380/0             the same over TLS
//	redis+cluster://user:pass@host:7000?addr=host2:7000&addr=host3:7000
//	                                           Redis Cluster, as redis.ParseClusterURL takes a redis:// URL
//	rediss+cluster://…                         the same over TLS
//	redis+sentinel://:sentinelpass@host:26379/0?master_name=mymaster&addr=host2:26379
//	                                           Sentinel, as redis.ParseFailoverURL takes a redis:// URL
//	rediss+sentinel://…                        the same over TLS
//
// Query parameters starting with latch_ are this package's, checked
// before anything is opened and removed before the rest reaches go-redis
// (which refuses parameters it does not know; any other latch_ parameter
// is ErrInvalid):
//
//	latch_key_prefix=app1:           WithKeyPrefix
//	latch_routing_key=…              WithRoutingKey's key, at least 16 bytes once unescaped
//	latch_previous_routing_key=…     one of WithRoutingKey's previous keys; may be repeated
//
// Otherwise the defaults hold: keys prefixed "latch:", DefaultRoutingKey.
// A store opened by URL sets ContextTimeoutEnabled on its client, so a
// done context interrupts a call waiting on the network.
//
// A query that does not parse (a ';' separator, a bad %-escape) is
// ErrInvalid as a whole, so a mistyped latch_ parameter never falls back
// to a default. Errors name the scheme and host alone: never the URL, its
// user information or a routing key. A driver error is passed on only
// when its text holds none of them; otherwise it is replaced by a note
// that details were withheld, keeping ErrInvalid and a context's error.
func Open(ctx context.Context, u *url.URL) (*Store, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil URL", ErrInvalid)
	}
	s, err := open(ctx, u)
	if err != nil {
		return nil, openError(u, err)
	}
	return s, nil
}

// openError is err from opening u, prefixed with u's scheme and host.
func openError(u *url.URL, err error) error {
	where := "redisstore: open " + u.Scheme + "://" + u.Host
	if !holdsSecret(u, err.Error()) {
		return fmt.Errorf("%s: %w", where, err)
	}
	var kept []error
	for _, k := range []error{ErrInvalid, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, k) {
			kept = append(kept, k)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("%s: failed (details withheld: they quote the URL)", where)
	}
	return fmt.Errorf("%s: %w (details withheld: they quote the URL)", where, errors.Join(kept...))
}

// holdsSecret reports whether text quotes u, its user information or one
// of its routing keys, raw or escaped. A short password is looked for only
// as it stands in a URL (":pass@"), so that a message that merely holds
// its few characters elsewhere is not withheld.
func holdsSecret(u *url.URL, text string) bool {
	var secrets []string
	if u.User != nil {
		if pass, ok := u.User.Password(); ok {
			for _, p := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass), (&url.URL{User: url.UserPassword("", pass)}).User.String()[1:]} {
				secrets = append(secrets, ":"+p+"@")
				if len(p) >= 6 {
					secrets = append(secrets, p)
				}
			}
		}
	}
	for _, pair := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(pair, "=")
		if !strings.Contains(k, "routing_key") {
			continue
		}
		x, err := url.QueryUnescape(v)
		for _, y := range []string{v, x} {
			if len(y) >= 6 && (y == v || err == nil) {
				secrets = append(secrets, y)
			}
		}
	}
	for _, x := range secrets {
		if strings.Contains(text, x) {
			return true
		}
	}
	return false
}

func open(ctx context.Context, u *url.URL) (*Store, error) {
	opts, rest, err := urlOptions(u)
	if err != nil {
		return nil, err
	}
	scheme, topology, _ := strings.Cut(strings.ToLower(rest.Scheme), "+")
	if scheme != "redis" && scheme != "rediss" {
		return nil, fmt.Errorf("%w: scheme %q is not redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", ErrInvalid, u.Scheme)
	}
	rest.Scheme = scheme
	raw := rest.String()
	var c redis.UniversalClient
	switch topology {
	case "":
		c, err = client(redis.ParseURL, raw, func(o *redis.Options) redis.UniversalClient {
			o.ContextTimeoutEnabled = true
			return redis.NewClient(o)
		})
	case "cluster":
		c, err = client(redis.ParseClusterURL, raw, func(o *redis.ClusterOptions) redis.UniversalClient {
			o.ContextTimeoutEnabled = true
			return redis.NewClusterClient(o)
		})
	case "sentinel":
		c, err = client(redis.ParseFailoverURL, raw, func(o *redis.FailoverOptions) redis.UniversalClient {
			if o.MasterName == "" {
				return nil
			}
			o.ContextTimeoutEnabled = true
			return redis.NewFailoverClient(o)
		})
		if err == nil && c == nil {
			err = fmt.Errorf("%w: a sentinel URL needs master_name=…", ErrInvalid)
		}
	default:
		err = fmt.Errorf("%w: scheme %q is not redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", ErrInvalid, u.Scheme)
	}
	if err != nil {
		return nil, err
	}
	s, err := New(c, opts...)
	if err == nil {
		err = c.Ping(ctx).Err()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// urlOptions takes the latch_ parameters out of u's query, checks them,
// and returns them with a copy of u without them.
func urlOptions(u *url.URL) ([]Option, *url.URL, error) {
	// url.Values from u.Query() would silently drop what does not parse,
	// and a mistyped latch_routing_key would fall back to the public
	// default.
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the URL's query does not parse (a ';' separator or a bad %%-escape)", ErrInvalid)
	}
	var opts []Option
	var key []byte
	var previous [][]byte
	for k, v := range q {
		if !strings.HasPrefix(k, "latch_") {
			continue
		}
		if len(v) != 1 && k != "latch_previous_routing_key" {
			return nil, nil, fmt.Errorf("%w: URL parameter %s given %d times", ErrInvalid, k, len(v))
		}
		switch k {
		case "latch_key_prefix":
			opts = append(opts, WithKeyPrefix(v[0]))
		case "latch_routing_key":
			key = []byte(v[0])
		case "latch_previous_routing_key":
			for _, p := range v {
				previous = append(previous, []byte(p))
			}
		default:
			return nil, nil, fmt.Errorf("%w: unknown URL parameter %s (want latch_key_prefix, latch_routing_key or latch_previous_routing_key)", ErrInvalid, k)
		}
		q.Del(k)
	}
	switch {
	case key != nil:
		opts = append(opts, WithRoutingKey(key, previous...))
	case previous != nil:
		return nil, nil, fmt.Errorf("%w: latch_previous_routing_key without latch_routing_key", ErrInvalid)
	}
	// Check the options now, before any connection is made.
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, nil, err
		}
	}
	cu := *u
	cu.RawQuery = q.Encode()
	return opts, &cu, nil
}

// client parses raw with parse (a parse error is ErrInvalid) and makes the
// client with make, which may return nil for options it refuses.
func client[O any](parse func(string) (*O, error), raw string, make func(*O) redis.UniversalClient) (redis.UniversalClient, error) {
	o, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return make(o), nil
}
