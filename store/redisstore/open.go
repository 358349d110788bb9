package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store/storekit"
)

func init() {
	storekit.Register(Open, urls.Schemes...)
}

// The latch_ parameters of a URL.
const (
	paramKeyPrefix          = "latch_key_prefix"
	paramRoutingKey         = "latch_routing_key"
	paramPreviousRoutingKey = "latch_previous_routing_key"
)

var urls = &storekit.URLSpec{
	Store:    "redisstore",
	Schemes:  []string{"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"},
	Params:   []string{paramKeyPrefix, paramRoutingKey, paramPreviousRoutingKey},
	Repeated: []string{paramPreviousRoutingKey},
	Secret:   []string{paramRoutingKey, paramPreviousRoutingKey},
	Invalid:  ErrInvalid,
}

// Open connects to the Redis rawURL names, checks it answers (PING), and
// returns a Store that owns the client: its Close also closes the client.
// Importing the package registers Open for store.Open, for configuration
// strings (LATCH_STORE); applications that hold a client use New. opts
// apply after the URL's parameters, and win over them. The schemes:
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
// Query parameters starting with latch_ (in any case) are this package's,
// checked before anything is opened and removed before the rest reaches
// go-redis (which refuses parameters it does not know; any other latch_
// parameter is ErrInvalid):
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
// password or a routing key, which are hidden wherever the driver's
// message quotes them (see storekit.Redact).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	cfg := defaults()
	u, err := storekit.Configure(urls, rawURL, &cfg, urlParams(&cfg), opts...)
	if err != nil {
		return nil, err
	}
	c, err := client(u)
	if err != nil {
		return nil, u.OpenError(err)
	}
	// go-redis waits out its dial and read timeouts whatever ctx says.
	if err := storekit.Await(ctx, func(ctx context.Context) error { return c.Ping(ctx).Err() }); err != nil {
		cfg.Report(u.OpenError(c.Close()))
		return nil, u.OpenError(err)
	}
	s := fromConfig(c, cfg)
	s.owned = true
	return s, nil
}

// urlParams sets cfg from the URL's latch_ parameters.
func urlParams(cfg *config) func(*storekit.URL) error {
	return func(u *storekit.URL) error {
		if u.Has(paramKeyPrefix) {
			if err := WithKeyPrefix(u.Value(paramKeyPrefix))(cfg); err != nil {
				return err
			}
		}
		var previous [][]byte
		for _, p := range u.Values(paramPreviousRoutingKey) {
			previous = append(previous, []byte(p))
		}
		switch {
		case u.Has(paramRoutingKey):
			return WithRoutingKey([]byte(u.Value(paramRoutingKey)), previous...)(cfg)
		case previous != nil:
			return errors.New("latch_previous_routing_key without latch_routing_key")
		}
		return nil
	}
}

// client makes the go-redis client of u's topology, with
// ContextTimeoutEnabled. A URL go-redis refuses is ErrInvalid.
func client(u *storekit.URL) (redis.UniversalClient, error) {
	scheme, topology, _ := strings.Cut(u.Scheme, "+")
	rest := *u.Rest
	rest.Scheme = scheme
	raw := rest.String()
	switch topology {
	case "cluster":
		return parsed(redis.ParseClusterURL, raw, func(o *redis.ClusterOptions) redis.UniversalClient {
			o.ContextTimeoutEnabled = true
			return redis.NewClusterClient(o)
		})
	case "sentinel":
		return parsed(redis.ParseFailoverURL, raw, func(o *redis.FailoverOptions) redis.UniversalClient {
			if o.MasterName == "" {
				return nil
			}
			o.ContextTimeoutEnabled = true
			return redis.NewFailoverClient(o)
		})
	}
	return parsed(redis.ParseURL, raw, func(o *redis.Options) redis.UniversalClient {
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o)
	})
}

// parsed parses raw with parse (a parse error is ErrInvalid) and makes the
// client with make, which returns nil for options it refuses: a sentinel
// URL without master_name.
func parsed[O any](parse func(string) (*O, error), raw string, make func(*O) redis.UniversalClient) (redis.UniversalClient, error) {
	o, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c := make(o)
	if c == nil {
		return nil, fmt.Errorf("%w: a sentinel URL needs master_name=…", ErrInvalid)
	}
	return c, nil
}
