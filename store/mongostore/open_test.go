package mongostore

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
)

// withDB returns the test server's URI naming database db, with query
// parameters params added.
func withDB(t *testing.T, db, params string) string {
	t.Helper()
	u, err := url.Parse(testenv.MongoURI(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	if params != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += params
	}
	return u.String()
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, scheme := range []string{"mongodb", "mongodb+srv"} {
		if !slices.Contains(store.Schemes(), scheme) {
			t.Errorf("scheme %s is not registered", scheme)
		}
	}

	prefix := randomPrefix()
	raw := withDB(t, testDB, "latch_collection_prefix="+prefix+"&latch_sweep_interval=1h&latch_sweep_grace=1m&latch_watch_interval=20ms&latch_watch_margin=3s")
	st, err := store.Open(ctx, raw)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := st.(*Store)
	t.Cleanup(func() {
		for _, c := range []string{"sessions", "strikes", "changes"} {
			drop(t, testClient(t).Database(testDB).Collection(prefix+c))
		}
	})
	if s.c.Name() != prefix+"sessions" || s.kit.SweepInterval != time.Hour || s.kit.SweepGrace != time.Minute || !s.owned {
		t.Errorf("Open's store: collection %s, sweep %s, grace %s, owned %v", s.c.Name(), s.kit.SweepInterval, s.kit.SweepGrace, s.owned)
	}
	if s.interval != 20*time.Millisecond || s.margin != 3*time.Second {
		t.Errorf("Open's store: watch interval %s, margin %s; want 20ms, 3s", s.interval, s.margin)
	}
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	if err := s.Create(ctx, x, 3); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.Get(ctx, x.ID, now); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, ok := indexes(t, s.c)[subjectIndex]; !ok {
		t.Error("Setup did not run on open: no subject index")
	}
	client := s.db.Client()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Ping(ctx, nil); err == nil {
		t.Error("the client of a store from Open is still connected after Close")
	}
	if _, err := s.Get(ctx, x.ID, now); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	ctx := context.Background()
	for _, c := range []struct {
		name, url string
	}{
		{"no database", "mongodb://u:" + pw + "@127.0.0.1:1/"},
		{"no path", "mongodb://u:" + pw + "@127.0.0.1:1"},
		{"two path segments", "mongodb://u:" + pw + "@127.0.0.1:1/a/b"},
		{"dot in database", "mongodb://u:" + pw + "@127.0.0.1:1/a.b"},
		{"opaque", "mongodb:u:" + pw},
		{"unknown latch parameter", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_table_prefix=x_"},
		{"bad duration", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_sweep_interval=often"},
		{"negative interval", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_sweep_interval=-1s"},
		{"parameter twice", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_sweep_grace=1m&latch_sweep_grace=2m"},
		{"zero watch interval", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_watch_interval=0s"},
		{"bad watch interval", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_watch_interval=often"},
		{"negative watch margin", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_watch_margin=-1s"},
		{"watch margin under 200ms", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_watch_margin=100ms"},
		{"watch margin over a minute", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_watch_margin=2m"},
		{"bad prefix", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_collection_prefix=a.b"},
		{"bad driver option", "mongodb://u:" + pw + "@127.0.0.1:1/db?connectTimeoutMS=soon"},
		{"malformed query", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_sweep_grace=%zz" + pw},
		{"mixed-case unknown latch parameter", "mongodb://u:" + pw + "@127.0.0.1:1/db?Latch_Table_Prefix=x_"},
		{"upper-case bad duration", "mongodb://u:" + pw + "@127.0.0.1:1/db?LATCH_SWEEP_INTERVAL=often"},
		{"parameter twice in two cases", "mongodb://u:" + pw + "@127.0.0.1:1/db?latch_sweep_grace=1m&LATCH_SWEEP_GRACE=2m"},
		{"option value the driver quotes", "mongodb://127.0.0.1:1/db?tls=true&tlsCertificateKeyFile=/nonexistent/" + pw + ".pem&tlsCertificateKeyFilePassword=" + pw},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := store.Open(ctx, c.url)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
			if err != nil && (strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "%zz")) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	for _, raw := range []string{"http://example.com/db", "", "127.0.0.1:27017/db"} {
		if s, err := Open(ctx, raw); !errors.Is(err, ErrInvalid) || s != nil {
			t.Errorf("Open(%q) = %v, %v; want ErrInvalid", raw, s, err)
		}
	}

	// A server that cannot be reached: Setup fails, the error is an
	// outage (not ErrInvalid) and shows no password.
	start := time.Now()
	_, err := store.Open(ctx, "mongodb://u:"+pw+"@127.0.0.1:1/db?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
	if err == nil || errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), pw) {
		t.Errorf("Open of a dead address = %v, want an outage without the password", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Open of a dead address took %s", time.Since(start))
	}
}

// The write concern is w=majority unless the URL sets w, also when it
// sets only journal=true; a URL's own w stays.
func TestOpenWriteConcern(t *testing.T) {
	for _, c := range []struct {
		query   string
		w       any
		journal bool
	}{
		{"", "majority", false},
		{"journal=true", "majority", true},
		{"w=1", 1, false},
		{"w=1&journal=true", 1, true},
	} {
		u, err := urls.Parse("mongodb://127.0.0.1:1/db?latch_sweep_grace=1m&" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		co, err := clientOptions(u.Rest)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		wc := co.WriteConcern
		if wc == nil || wc.W != c.w || (wc.Journal != nil && *wc.Journal) != c.journal {
			t.Errorf("?%s: write concern %+v, want w=%v journal=%v", c.query, wc, c.w, c.journal)
		}
	}
}

// latch_ parameters are recognized in any case and never reach the
// driver.
func TestOpenMixedCaseParameters(t *testing.T) {
	prefix := randomPrefix()
	st, err := store.Open(context.Background(), withDB(t, testDB, "LATCH_COLLECTION_PREFIX="+prefix+"&Latch_Sweep_Grace=1m"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := st.(*Store)
	t.Cleanup(func() { drop(t, testClient(t).Database(testDB).Collection(prefix+"sessions")) })
	defer s.Close()
	if s.c.Name() != prefix+"sessions" || s.kit.SweepGrace != time.Minute {
		t.Errorf("collection %s, grace %s", s.c.Name(), s.kit.SweepGrace)
	}
}

// A mongodb+srv host whose DNS lookup fails is an outage, not ErrInvalid.
func TestOpenSRVLookupFails(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	_, err := store.Open(context.Background(), "mongodb+srv://u:"+pw+"@cluster0.latch-test.invalid/db")
	if err == nil || errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), pw) {
		t.Errorf("Open of an unresolvable mongodb+srv host = %v, want an outage without the password", err)
	}
	var dns *net.DNSError
	if !errors.As(err, &dns) {
		t.Errorf("Open of an unresolvable mongodb+srv host = %v, want a *net.DNSError", err)
	}
	t.Log(err)
}
