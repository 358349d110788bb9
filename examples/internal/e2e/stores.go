package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/internal/testenv"
	_ "github.com/latchauth/latch/store/mongostore"        // registers mongodb://
	_ "github.com/latchauth/latch/store/redisstore"        // registers redis://, redis+cluster://
	_ "github.com/latchauth/latch/store/sqlstore/mysql"    // registers mysql://
	_ "github.com/latchauth/latch/store/sqlstore/postgres" // registers postgres://, postgresql://
	_ "github.com/latchauth/latch/store/sqlstore/sqlite"   // registers sqlite:
)

// testEveryStoreByURL: the examples switch stores by LATCH_STORE alone. On
// each backend, in each mode, sessions outlive a restart and a logout
// stays made. Each run keeps its data under names of its own and removes
// them afterwards.
func testEveryStoreByURL(t *testing.T, routes Routes) {
	for _, b := range networkedStores {
		t.Run(b.name, func(t *testing.T) {
			for _, mode := range modes {
				t.Run(string(mode), func(t *testing.T) {
					u := b.newURL(t)
					survivesRestart(t, routes, latch.Config{Mode: mode, Store: latch.StoreURL(u)},
						filepath.Join(t.TempDir(), "data"), func() {})
				})
			}
		})
	}
}

// networkedStore is a backend the walkthrough opens by LATCH_STORE.
type networkedStore struct {
	name string
	// url returns the backend's URL with its data under tag, and removes
	// that data when t ends.
	url func(t *testing.T, tag string) string
}

// networkedStores are the backends of internal/testenv.
var networkedStores = []networkedStore{
	{"postgres", postgresURL},
	{"mysql", mysqlURL},
	{"redis", redisURL},
	{"redis-cluster", redisClusterURL},
	{"mongo", mongoURL},
}

// newURL returns b's URL under a tag of its own, removed when t ends.
func (b networkedStore) newURL(t *testing.T) string {
	return b.url(t, "seed"+strings.ToLower(rand.Text()[:10]))
}

// startApp builds an app on dir and serves it until the test ends.
func startApp(t *testing.T, routes Routes, cfg latch.Config, dir string) (*walkthrough.App, *httptest.Server) {
	t.Helper()
	a, err := walkthrough.New(context.Background(), cfg, latchhttp.Config{}, dir, latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("walkthrough.New: %v", err)
	}
	srv := httptest.NewServer(routes(a))
	t.Cleanup(func() { srv.Close(); a.Close() })
	return a, srv
}

// loginAt logs test in at the server at base and returns the tokens.
func loginAt(t *testing.T, base string) tokens {
	t.Helper()
	r := send(t, http.DefaultClient, base, request{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`})
	r.check(t, want{status: 200})
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// testSessionsSurviveRestart: with no LATCH_STORE the sessions live in an
// SQLite file, sessions.db (0600), in the data directory (created 0700), so a
// restart logs nobody out, and a revocation made before it stays made.
func testSessionsSurviveRestart(t *testing.T, routes Routes) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			survivesRestart(t, routes, latch.Config{Mode: mode}, dir, func() {
				if _, err := os.Stat(filepath.Join(dir, "sessions.db")); err != nil {
					t.Fatalf("no sessions file in the data directory: %v", err)
				}
				if fi, _ := os.Stat(dir); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
					t.Errorf("the data directory has mode %04o, want 0700", fi.Mode().Perm())
				}
				// The database and SQLite's journal files beside it are
				// private to their owner, whatever the umask.
				files, _ := filepath.Glob(filepath.Join(dir, "sessions.db*"))
				for _, f := range files {
					if fi, err := os.Stat(f); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
						t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), fi.Mode().Perm())
					}
				}
			})
		})
	}
}

// survivesRestart logs in twice, restarts the app on the same store,
// refreshes one device and logs the other out, restarts again, and checks
// that each session is where it was left. afterRestart runs after the
// first restart.
func survivesRestart(t *testing.T, routes Routes, cfg latch.Config, dir string, afterRestart func()) {
	t.Helper()
	restart := func() (*walkthrough.App, string) {
		a, srv := startApp(t, routes, cfg, dir)
		return a, srv.URL
	}
	a, base := restart()
	laptop, phone := loginAt(t, base), loginAt(t, base)
	a.Close()

	a, base = restart()
	afterRestart()
	get := func(path, tok string) *response {
		return send(t, http.DefaultClient, base, request{method: "GET", path: path, token: tok})
	}
	get("/protected", laptop.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
	if n := len(listed(t, get("/sessions", phone.AccessToken))); n != 2 {
		t.Errorf("/sessions lists %d sessions after two logins, want 2", n)
	}
	r := send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: laptop.RefreshToken})
	r.check(t, want{status: 200})
	var fresh tokens
	if err := json.Unmarshal(r.body, &fresh); err != nil {
		t.Fatal(err)
	}
	send(t, http.DefaultClient, base, request{method: "POST", path: "/logout", token: phone.AccessToken}).check(t, want{status: 200})
	a.Close()

	_, base = restart()
	// The logged-out phone stays logged out: its session is gone.
	get("/sessions", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: phone.RefreshToken}).
		check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	if cfg.Mode == latch.ModeOpaque {
		get("/protected", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	}
	// The laptop's refreshed session carries on, and is the only one left.
	get("/protected", fresh.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
	if n := len(listed(t, get("/sessions", fresh.AccessToken))); n != 1 {
		t.Errorf("/sessions lists %d sessions after a logout, want 1", n)
	}
}

// withQuery adds query parameters to a URL.
func withQuery(t *testing.T, raw string, params url.Values) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("test backend URL does not parse: %v", err)
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// dropTables removes the tables sqlstore made under prefix.
func dropTables(t *testing.T, driver, dsn, prefix string) {
	t.Cleanup(func() {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Errorf("cleaning up: %v", err)
			return
		}
		defer db.Close()
		for _, table := range []string{"sessions", "subject_locks", "strikes", "changes", "schema_migrations"} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + table); err != nil {
				t.Errorf("cleaning up: %v", err)
			}
		}
		if driver == "postgres" {
			if _, err := db.Exec("DROP FUNCTION IF EXISTS " + prefix + "report_change()"); err != nil {
				t.Errorf("cleaning up: %v", err)
			}
		}
	})
}

// WatchingStores names the backends whose stores report their changes
// (store.Watcher), which Config.SessionCache needs.
var WatchingStores = []string{"postgres", "mysql", "redis", "redis-cluster", "mongo"}

// StoreURL returns the URL of the networked backend name (as in
// WatchingStores) with its data under a tag of its own, removed when t
// ends.
func StoreURL(t *testing.T, name string) string {
	for _, b := range networkedStores {
		if b.name == name {
			return b.newURL(t)
		}
	}
	t.Fatalf("no networked store %q", name)
	return ""
}

func postgresURL(t *testing.T, tag string) string {
	dsn := testenv.PostgresDSN(t)
	dropTables(t, "postgres", dsn, tag+"_")
	return withQuery(t, dsn, url.Values{"latch_table_prefix": {tag + "_"}})
}

func mysqlURL(t *testing.T, tag string) string {
	dsn := testenv.MySQLDSN(t)
	dropTables(t, "mysql", dsn, tag+"_")
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("LATCH_TEST_MYSQL_DSN does not parse: %v", err)
	}
	u := &url.URL{Scheme: "mysql", Host: c.Addr, Path: "/" + c.DBName}
	if c.Passwd != "" {
		u.User = url.UserPassword(c.User, c.Passwd)
	} else {
		u.User = url.User(c.User)
	}
	return withQuery(t, u.String(), url.Values{"latch_table_prefix": {tag + "_"}})
}

// deleteKeys removes the keys under prefix from every master of c.
func deleteKeys(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		del := func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+"*", 100).Iterator()
			for iter.Next(ctx) {
				if err := node.Del(ctx, iter.Val()).Err(); err != nil {
					return err
				}
			}
			return iter.Err()
		}
		var err error
		if cc, ok := c.(*redis.ClusterClient); ok {
			err = cc.ForEachMaster(ctx, del)
		} else {
			err = del(ctx, c.(*redis.Client))
		}
		if err != nil {
			t.Errorf("cleaning up: %v", err)
		}
	})
}

func redisURL(t *testing.T, tag string) string {
	addr := testenv.RedisAddr(t)
	deleteKeys(t, redis.NewClient(&redis.Options{Addr: addr}), tag+":")
	return "redis://" + addr + "/0?latch_key_prefix=" + tag + ":"
}

func redisClusterURL(t *testing.T, tag string) string {
	addrs := testenv.RedisClusterAddrs(t)
	deleteKeys(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}), tag+":")
	q := url.Values{"latch_key_prefix": {tag + ":"}}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	return withQuery(t, "redis+cluster://"+addrs[0], q)
}

func mongoURL(t *testing.T, tag string) string {
	uri := testenv.MongoURI(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Errorf("cleaning up: %v", err)
			return
		}
		defer c.Disconnect(ctx)
		if err := c.Database(tag).Drop(ctx); err != nil {
			t.Errorf("cleaning up: %v", err)
		}
	})
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("LATCH_TEST_MONGO_URI does not parse: %v", err)
	}
	u.Path = "/" + tag
	return u.String()
}
