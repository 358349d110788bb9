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

	"github.com/latchauth/latch/store/storekit"
)

func init() {
	storekit.Register(Open, urls.Schemes...)
}

// The latch_ parameters of a URL beside the sweep's.
const (
	paramCollectionPrefix = "latch_collection_prefix"
	paramWatchInterval    = "latch_watch_interval"
	paramWatchMargin      = "latch_watch_margin"
)

var urls = &storekit.URLSpec{
	Store:   "mongostore",
	Schemes: []string{"mongodb", "mongodb+srv"},
	Params:  []string{paramCollectionPrefix, paramWatchInterval, paramWatchMargin, storekit.ParamSweepInterval, storekit.ParamSweepGrace},
	Invalid: ErrInvalid,
}

// Open connects to the server rawURL names, runs Migrate, and returns a
// Store that owns the client: its Close also disconnects it. Importing
// the package registers Open for store.Open, for configuration strings
// (LATCH_STORE); applications that hold a *mongo.Client use New. opts
// apply after the URL's parameters, and win over them. The schemes are
// the driver's:
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
//	latch_watch_interval=50ms      WithWatchInterval, a time.ParseDuration string
//	latch_watch_margin=2s          WithWatchMargin, a time.ParseDuration string
//
// Unless the URL sets w (journal=true alone does not), the client writes
// with w=majority, so an acknowledged rotation or revocation survives a
// failover (see the package doc). Reads go to the primary unless the
// URL's readPreference says otherwise, which it should not: a secondary
// may still hold a session that was revoked.
//
// Open returns promptly once ctx is done, and after one server selection
// (30 seconds unless the URL's serverSelectionTimeoutMS says otherwise)
// when no server answers: give it the context of the program's start-up,
// which a signal cancels.
//
// Errors never contain the URL, its password or any option's value: a
// URL the driver refuses is ErrInvalid with a fixed message. A
// mongodb+srv host whose DNS lookup fails is an outage, not ErrInvalid.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	c := defaults()
	u, err := storekit.Configure(urls, rawURL, &c, urlParams(&c), opts...)
	if err != nil {
		return nil, err
	}
	dbName, err := database(u.Rest)
	if err != nil {
		return nil, u.OpenError(err)
	}
	co, err := clientOptions(u.Rest)
	if err != nil {
		return nil, u.OpenError(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, u.OpenError(err) // before the client starts connecting
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, u.OpenError(connectErr(err))
	}
	s := fromConfig(client.Database(dbName), c)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		// Disconnect waits for a connection attempt under way, whatever
		// its context says: against a server that accepts and never
		// answers, up to the connect timeout (30 s by default). It runs in
		// the background, so a canceled start-up returns at once.
		go client.Disconnect(context.WithoutCancel(ctx))
		return nil, u.OpenError(err)
	}
	s.owned = true
	return s, nil
}

// urlParams sets c from the URL's latch_ parameters of this package.
func urlParams(c *config) func(*storekit.URL) error {
	return func(u *storekit.URL) error {
		if u.Has(paramCollectionPrefix) {
			if err := WithCollectionPrefix(u.Value(paramCollectionPrefix))(c); err != nil {
				return err
			}
		}
		if err := u.SetDuration(paramWatchInterval, func(d time.Duration) error { return WithWatchInterval(d)(c) }); err != nil {
			return err
		}
		return u.SetDuration(paramWatchMargin, func(d time.Duration) error { return WithWatchMargin(d)(c) })
	}
}

// database returns the database u names in its path.
func database(u *url.URL) (string, error) {
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%w: write mongodb://user:password@host:port/database", ErrInvalid)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.ContainsAny(name, `/\. "$`+"\x00") {
		return "", fmt.Errorf("%w: a mongodb URL must name one database in its path: mongodb://host:port/database", ErrInvalid)
	}
	return name, nil
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
