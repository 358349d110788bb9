package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"

	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// backends are the servers the LATCH_TEST_* variables name (see
// internal/testenv); "" where a variable is unset.
type backends struct {
	redisAddr   string
	postgresDSN string
}

func backendsFromEnv() backends {
	return backends{
		redisAddr:   os.Getenv("LATCH_TEST_REDIS_ADDR"),
		postgresDSN: os.Getenv("LATCH_TEST_POSTGRES_DSN"),
	}
}

// missing says why a store is not available, or "" when it is.
func (b backends) missing(st string) string {
	switch {
	case st == "redis" && b.redisAddr == "":
		return "LATCH_TEST_REDIS_ADDR is unset"
	case st == "postgres" && b.postgresDSN == "":
		return "LATCH_TEST_POSTGRES_DSN is unset"
	}
	return ""
}

// newPrefix returns a key or table prefix of this run's own:
// latchload<sep><random hex><sep>.
func newPrefix(sep string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "latchload" + sep + hex.EncodeToString(b) + sep
}

// redisURL is the Redis server's URL, database 0.
func (b backends) redisURL() string { return "redis://" + b.redisAddr + "/0" }

// storeURL returns the latch store URL of st with prefix: Redis keys or
// PostgreSQL tables; SQLite gets a file in dir.
func (b backends) storeURL(st, prefix, dir string) (string, error) {
	switch st {
	case "memory":
		return "memory:", nil
	case "sqlite":
		return "sqlite://" + dir + "/" + prefix + "sessions.db", nil
	case "redis":
		return b.redisURL() + "?latch_key_prefix=" + url.QueryEscape(prefix), nil
	case "postgres":
		u, err := url.Parse(b.postgresDSN)
		if err != nil {
			return "", fmt.Errorf("LATCH_TEST_POSTGRES_DSN: %w", err)
		}
		q := u.Query()
		q.Set("latch_table_prefix", prefix)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return "", fmt.Errorf("no store %q", st)
}

// dropRedis deletes every key starting with prefix (which holds no glob
// characters: see newPrefix), and nothing else.
func (b backends) dropRedis(ctx context.Context, prefix string) error {
	c := redis.NewClient(&redis.Options{Addr: b.redisAddr})
	defer c.Close()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

// dropPostgres drops every table whose name starts with prefix, and
// nothing else.
func (b backends) dropPostgres(ctx context.Context, prefix string) error {
	db, err := sql.Open("postgres", b.postgresDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)`, prefix)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+pq.QuoteIdentifier(t)); err != nil {
			return err
		}
	}
	return nil
}
