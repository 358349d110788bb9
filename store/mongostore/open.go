package mongostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/latchauth/latch/store"
)

func init() {
	store.Register("mongodb", openStore)
	store.Register("mongodb+srv", openStore)
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

// Open connects to the server u names, runs Setup, and returns a Store
// that owns the client: its Close also disconnects it. Opening is meant
// for configuration strings (LATCH_STORE); applications that hold a
// *mongo.Client use New. The schemes are the driver's:
//
//	mongodb://user:pass@host1:27017,host2:27017/dbname?replicaSet=rs0
//	mongodb+srv://user:pass@cluster0.example.net/dbname
//
// The database is the URL's path and must be given: a URL without one
// (mongodb://host/) is ErrInvalid rather than a default database that
// would surprise whoever reads the data later. Its other query
// parameters are the driver's connection-string options (authSource,
// tls, w, readPreference, …).
//
// Query parameters starting with latch_ (in any case: LATCH_, Latch_)
// are this package's, checked before anything connects and removed
// before the rest reaches the driver (any other latch_ parameter, one
// given twice, or a query that is not valid percent-encoding is
// ErrInvalid):
//
//	latch_collection_prefix=app_   WithCollectionPrefix (default latch_)
//	latch_sweep_interval=10m       WithSweepInterval, a time.ParseDuration string (default 0: no sweeper)
//	latch_sweep_grace=5m           WithSweepGrace, a time.ParseDuration string
//
// Unless the URL sets w (journal=true alone does not), the client writes
// with w=majority, so an
// acknowledged rotation or revocation survives a failover (see the
// package doc). Reads go to the primary unless the URL's readPreference
// says otherwise, which it should not: a secondary may still hold a
// session that was revoked.
//
// Errors never contain the URL, its password or any option's value: a
// URL the driver refuses is ErrInvalid with a fixed message. A
// mongodb+srv host whose DNS lookup fails is an outage, not ErrInvalid.
func Open(ctx context.Context, u *url.URL) (*Store, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil URL", ErrInvalid)
	}
	pass, _ := u.User.Password()
	secrets := []string{pass, url.QueryEscape(pass), url.PathEscape(pass), u.String()}
	opts, dbName, cu, err := urlOptions(u)
	if err != nil {
		return nil, redact(err, secrets...)
	}
	co, err := clientOptions(cu)
	if err != nil {
		return nil, err
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, connectErr(err)
	}
	s, err := New(client.Database(dbName), opts...)
	if err == nil {
		err = s.Setup(ctx)
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		client.Disconnect(dctx)
		return nil, redact(err, secrets...)
	}
	s.owned = true
	return s, nil
}

// clientOptions returns the driver's options for cu, writing with
// w=majority unless cu sets w.
func clientOptions(cu *url.URL) (*options.ClientOptions, error) {
	co := options.Client().ApplyURI(cu.String())
	if err := co.Validate(); err != nil {
		return nil, connectErr(err)
	}
	if co.WriteConcern == nil || co.WriteConcern.W == nil {
		// No w in the URL (journal=true alone sets a write concern
		// without w): majority, keeping j.
		wc := writeconcern.Majority()
		if co.WriteConcern != nil {
			wc.Journal = co.WriteConcern.Journal
		}
		co.SetWriteConcern(wc)
	}
	return co, nil
}

// connectErr turns the driver's refusal of a URL into an error that
// quotes nothing of it: the driver's messages can quote option values
// (tlsCertificateKeyFilePassword, say). A failed DNS lookup of a
// mongodb+srv host is an outage, not ErrInvalid; its error names the
// host looked up and nothing else.
func connectErr(err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("mongostore: open: looking up the mongodb+srv host: %w", dns)
	}
	return fmt.Errorf("%w: the driver refused the mongodb URL's options (check each connection-string option and its value)", ErrInvalid)
}

// urlOptions takes the latch_ parameters out of u's query and checks
// them, and returns them with the database name and a copy of u without
// them.
func urlOptions(u *url.URL) ([]Option, string, *url.URL, error) {
	fail := func(err error) ([]Option, string, *url.URL, error) { return nil, "", nil, err }
	switch strings.ToLower(u.Scheme) {
	case "mongodb", "mongodb+srv":
	default:
		return fail(fmt.Errorf("%w: scheme %q is not mongodb or mongodb+srv", ErrInvalid, u.Scheme))
	}
	if u.Opaque != "" || u.Host == "" {
		return fail(fmt.Errorf("%w: write mongodb://user:password@host:port/database", ErrInvalid))
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" || strings.ContainsAny(dbName, `/\. "$`+"\x00") {
		return fail(fmt.Errorf("%w: a mongodb URL must name one database in its path: mongodb://host:port/database", ErrInvalid))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail(fmt.Errorf("%w: the mongodb URL's query is not valid percent-encoding", ErrInvalid))
	}
	var opts []Option
	removed := false
	seen := map[string]bool{}
	for k, v := range q {
		name := strings.ToLower(k)
		if !strings.HasPrefix(name, "latch_") {
			continue
		}
		if len(v) != 1 || seen[name] {
			return fail(fmt.Errorf("%w: URL parameter %s given more than once", ErrInvalid, name))
		}
		seen[name] = true
		switch name {
		case "latch_collection_prefix":
			opts = append(opts, WithCollectionPrefix(v[0]))
		case "latch_sweep_interval", "latch_sweep_grace":
			d, err := time.ParseDuration(v[0])
			if err != nil {
				return fail(fmt.Errorf("%w: %s is not a duration such as 10m", ErrInvalid, name))
			}
			if name == "latch_sweep_interval" {
				opts = append(opts, WithSweepInterval(d))
			} else {
				opts = append(opts, WithSweepGrace(d))
			}
		default:
			return fail(fmt.Errorf("%w: unknown latch_ URL parameter (want latch_collection_prefix, latch_sweep_interval or latch_sweep_grace)", ErrInvalid))
		}
		q.Del(k)
		removed = true
	}
	// Check the options now, before any connection is made.
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return fail(err)
		}
	}
	cu := *u
	if removed {
		cu.RawQuery = q.Encode()
	}
	return opts, dbName, &cu, nil
}
