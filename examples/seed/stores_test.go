package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/testenv"
)

// TestEveryStoreByURL: the seed switches stores by LATCH_STORE alone. On
// each backend, in each mode, sessions outlive a restart and a logout
// stays made. Each run keeps its data under names of its own and removes
// them afterwards.
func TestEveryStoreByURL(t *testing.T) {
	backends := []struct {
		name string
		url  func(t *testing.T, tag string) string
	}{
		{"postgres", postgresURL},
		{"mysql", mysqlURL},
		{"redis", redisURL},
		{"redis-cluster", redisClusterURL},
		{"mongo", mongoURL},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, mode := range modes {
				t.Run(string(mode), func(t *testing.T) {
					u := b.url(t, "seed"+strings.ToLower(rand.Text()[:10]))
					survivesRestart(t, latch.Config{Mode: mode, Store: latch.StoreURL(u)},
						filepath.Join(t.TempDir(), "data"), func() {})
				})
			}
		})
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
		for _, table := range []string{"sessions", "subject_locks", "schema_migrations"} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + prefix + table); err != nil {
				t.Errorf("cleaning up: %v", err)
			}
		}
	})
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
