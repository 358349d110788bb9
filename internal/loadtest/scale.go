package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/redisstore"
	"github.com/latchauth/latch/store/sqlstore"
)

// The scale run (issue 15, target 5): each store is filled with -size
// sessions under a prefix of the run's own, and measured:
//
//   - Store.Get's latency, p50 and p99, over lookups of random ids, one at a
//     time, in a store of smallSize sessions and in one of -size (two
//     prefixes, looked up in alternating batches, so the machine's noise
//     falls on both alike): the target is that the figures at -size are
//     within 1.2× of those at smallSize;
//   - List and RevokeSubject of one subject holding heavySessions sessions;
//   - Redis's memory (INFO used_memory before and after the fill, and
//     MEMORY USAGE of a sample of session keys), PostgreSQL's disk
//     (pg_total_relation_size of the sessions table, indexes included).
//
// Redis is filled through Store.Create, fillWorkers at a time; PostgreSQL
// through Store.Create up to smallSize, then by INSERT … SELECT in the
// store's own table: copies of one session that Create wrote, each with an
// id and a subject of its own (ten sessions a subject), a hundred
// thousand rows a statement. Everything under the prefix is deleted at the
// end, whatever happens.
const (
	smallSize     = 1_000
	lookups       = 20_000
	heavySessions = 10_000
	heavySubject  = "scale-heavy"
	fillWorkers   = 64
	scaleTimeout  = 45 * time.Minute
	maxRatio      = 1.2
)

// scaleResult holds one store's figures; a zero field was not measured.
type scaleResult struct {
	store, skipped  string
	fill            string // how and how fast the store was filled
	small, large    latency
	list, revoke    time.Duration
	listed, revoked int
	memory          string
	size            int
}

// latency is the p50 and p99 of a set of lookups.
type latency struct{ p50, p99 time.Duration }

// scaleStore is what runScale needs of a store beyond store.Store.
type scaleStore struct {
	store.Store
	// fill adds sessions to reach n, returning the ids added.
	fill func(ctx context.Context, n int) ([]string, string, error)
	// footprint reports memory or disk at the current size.
	footprint func(ctx context.Context, n int) (string, error)
}

func runScale(size int) error {
	if size < smallSize {
		return fmt.Errorf("-size must be at least %d", smallSize)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, scaleTimeout)
	defer cancel()
	b := backendsFromEnv()
	began := time.Now()
	var results []scaleResult
	for _, st := range []string{"redis", "postgres"} {
		r := scaleResult{store: st, size: size}
		if r.skipped = b.missing(st); r.skipped == "" {
			if err := measureScale(ctx, b, &r); err != nil {
				if ctx.Err() != nil {
					return err
				}
				r.skipped = "failed: " + firstLine(err.Error())
				fmt.Fprintf(os.Stderr, "loadtest: scale: %s: %v\n", st, err)
			}
		}
		results = append(results, r)
	}
	printScale(os.Stdout, results, size, began)
	return nil
}

// measureScale measures st: a store of smallSize sessions and one filled
// to r.size, each under a prefix of its own, with their lookups
// interleaved so that the machine's noise falls on both alike; then
// deletes what it made.
func measureScale(ctx context.Context, b backends, r *scaleResult) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "loadtest: scale: %s: "+format+"\n", append([]any{r.store}, args...)...)
	}
	small, closeSmall, err := openScale(ctx, b, r.store)
	if err != nil {
		return err
	}
	defer closeSmall()
	large, closeLarge, err := openScale(ctx, b, r.store)
	if err != nil {
		return err
	}
	defer closeLarge()

	logf("creating %d sessions in each store", smallSize)
	subject := func(i int) string { return "scale-" + strconv.Itoa(i/10) }
	smallIDs, err := create(ctx, small, smallSize, subject)
	if err != nil {
		return err
	}
	largeIDs, err := create(ctx, large, smallSize, subject)
	if err != nil {
		return err
	}
	logf("filling to %d", r.size)
	began := time.Now()
	more, how, err := large.fill(ctx, r.size)
	if err != nil {
		return err
	}
	r.fill = fmt.Sprintf("%s, %.0f s", how, time.Since(began).Seconds())
	largeIDs = append(largeIDs, more...)
	logf("filled (%s); %d sessions of %s", r.fill, heavySessions, heavySubject)
	if _, err := create(ctx, large, heavySessions, func(int) string { return heavySubject }); err != nil {
		return err
	}
	if r.small, r.large, err = lookups2(ctx, small, smallIDs, large, largeIDs); err != nil {
		return err
	}
	logf("p50 %v at %d, %v at %d; p99 %v, %v", r.small.p50, smallSize, r.large.p50, r.size, r.small.p99, r.large.p99)
	if r.memory, err = large.footprint(ctx, r.size+heavySessions); err != nil {
		return err
	}
	began = time.Now()
	listed, err := large.List(ctx, heavySubject, time.Now())
	if err != nil {
		return err
	}
	r.list, r.listed = time.Since(began), len(listed)
	began = time.Now()
	if r.revoked, err = large.RevokeSubject(ctx, heavySubject, ""); err != nil {
		return err
	}
	r.revoke = time.Since(began)
	logf("List %v (%d), RevokeSubject %v (%d)", r.list, r.listed, r.revoke, r.revoked)
	return nil
}

// openScale opens st under a prefix of its own, and returns it with a
// function that closes it and deletes everything under the prefix.
func openScale(ctx context.Context, b backends, st string) (scaleStore, func(), error) {
	sep := ":"
	if st == "postgres" {
		sep = "_"
	}
	prefix := newPrefix(sep)
	u, err := b.storeURL(st, prefix, "")
	if err != nil {
		return scaleStore{}, nil, err
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		var err error
		if st == "redis" {
			err = b.dropRedis(dctx, prefix)
		} else {
			err = b.dropPostgres(dctx, prefix)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: scale: cleaning up %s: %v\n", st, err)
		}
	}
	if st == "redis" {
		rs, err := redisstore.Open(ctx, u)
		if err != nil {
			return scaleStore{}, nil, err
		}
		s, closeRedis := redisScale(b, rs, prefix)
		return s, func() { rs.Close(); closeRedis(); drop() }, nil
	}
	// The sweeper, off: it would scan the table while lookups are timed.
	ss, err := sqlstore.Open(ctx, u+"&latch_sweep_interval=0")
	if err != nil {
		drop()
		return scaleStore{}, nil, err
	}
	s, closePG, err := postgresScale(b, ss, prefix)
	if err != nil {
		ss.Close()
		drop()
		return scaleStore{}, nil, err
	}
	return s, func() { ss.Close(); closePG(); drop() }, nil
}

// newSession returns a session of subject as an opaque-mode login makes
// it, live for a day.
func newSession(subject string) *store.Session {
	now := time.Now()
	h := func() []byte {
		b := make([]byte, 32)
		rand.Read(b)
		s := sha256.Sum256(b)
		return s[:]
	}
	return &store.Session{
		Subject: subject, SecretHash: h(), RefreshHash: h(),
		CreatedAt: now, LastUsedAt: now,
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(24 * time.Hour), ExpiresAt: now.Add(24 * time.Hour),
	}
}

// create makes n sessions through Store.Create, fillWorkers at a time,
// the i-th for subject(i), and returns their ids.
func create(ctx context.Context, s store.Store, n int, subject func(int) string) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, fillWorkers)
	var wg sync.WaitGroup
	for w := range fillWorkers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += fillWorkers {
				x := newSession(subject(i))
				errs[w] = s.Create(ctx, x, 0)
				ids[i] = x.ID
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// lookups2 times Store.Get on a and on b, one call at a time, each of
// lookups ids drawn at random from aIDs or bIDs, in alternating batches
// after an untimed warm-up of a batch each.
func lookups2(ctx context.Context, a store.Store, aIDs []string, b store.Store, bIDs []string) (latency, latency, error) {
	const batch = 500
	var da, db []time.Duration
	run := func(s store.Store, ids []string, into *[]time.Duration) error {
		for range batch {
			id := ids[randIndex(len(ids))]
			began := time.Now()
			if _, err := s.Get(ctx, id, began); err != nil {
				return fmt.Errorf("store get: %w", err)
			}
			if into != nil {
				*into = append(*into, time.Since(began))
			}
		}
		return nil
	}
	if err := errors.Join(run(a, aIDs, nil), run(b, bIDs, nil)); err != nil {
		return latency{}, latency{}, err
	}
	for len(da) < lookups {
		if err := errors.Join(run(a, aIDs, &da), run(b, bIDs, &db)); err != nil {
			return latency{}, latency{}, err
		}
	}
	return quantiles(da), quantiles(db), nil
}

// quantiles returns the p50 and p99 of d, which it sorts.
func quantiles(d []time.Duration) latency {
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[int(math.Ceil(q*float64(len(d))))-1] }
	return latency{at(0.50), at(0.99)}
}

// redisScale fills Redis through Store.Create, and reports INFO
// used_memory's growth per session and MEMORY USAGE of sampled session
// keys.
func redisScale(b backends, s *redisstore.Store, prefix string) (scaleStore, func()) {
	c := redis.NewClient(&redis.Options{Addr: b.redisAddr})
	used := func(ctx context.Context) (int64, error) {
		info, err := c.InfoMap(ctx, "memory").Result()
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(info["Memory"]["used_memory"], 10, 64)
	}
	var before int64
	return scaleStore{
		Store: s,
		fill: func(ctx context.Context, n int) ([]string, string, error) {
			var err error
			if before, err = used(ctx); err != nil {
				return nil, "", err
			}
			ids, err := create(ctx, s, n-smallSize, func(i int) string { return "scale-" + strconv.Itoa((i+smallSize)/10) })
			return ids, fmt.Sprintf("Store.Create, %d at a time", fillWorkers), err
		},
		footprint: func(ctx context.Context, n int) (string, error) {
			after, err := used(ctx)
			if err != nil {
				return "", err
			}
			// A sample of session keys (…:s:<id>), by SCAN.
			var total, keys int64
			iter := c.Scan(ctx, 0, prefix+"*:s:*", 1000).Iterator()
			for keys < 1000 && iter.Next(ctx) {
				m, err := c.MemoryUsage(ctx, iter.Val()).Result()
				if err != nil {
					return "", err
				}
				total, keys = total+m, keys+1
			}
			if err := iter.Err(); err != nil {
				return "", err
			}
			if keys == 0 {
				return "", fmt.Errorf("no session key under the prefix")
			}
			return fmt.Sprintf("used_memory +%s (%d bytes a session, indexes included; other clients share the server); MEMORY USAGE of a session key %d bytes (mean of %d)",
				mib(after-before), (after-before)/int64(n-smallSize), total/keys, keys), nil
		},
	}, func() { c.Close() }
}

// postgresScale fills PostgreSQL by INSERT … SELECT in the store's table,
// and reports the table's size on disk.
func postgresScale(b backends, s *sqlstore.Store, prefix string) (scaleStore, func(), error) {
	db, err := sql.Open("postgres", b.postgresDSN)
	if err != nil {
		return scaleStore{}, nil, err
	}
	table := pq.QuoteIdentifier(prefix + "sessions")
	return scaleStore{
		Store: s,
		fill: func(ctx context.Context, n int) ([]string, string, error) {
			// Every column but id and subject is copied from one session
			// Create wrote.
			rows, err := db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 AND column_name NOT IN ('id', 'subject')
				ORDER BY ordinal_position`, prefix+"sessions")
			if err != nil {
				return nil, "", err
			}
			var cols []string
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					return nil, "", err
				}
				cols = append(cols, pq.QuoteIdentifier(c))
			}
			if err := rows.Err(); err != nil {
				return nil, "", err
			}
			list := strings.Join(cols, ", ")
			insert := fmt.Sprintf(`INSERT INTO %s (id, subject, %s)
				SELECT 'b' || lpad(g::text, 21, '0'), 'scale-' || (g / 10)::text, %s
				FROM (SELECT * FROM %s LIMIT 1) t, generate_series($1::bigint, $2::bigint) g`, table, list, list, table)
			const batch = 100_000
			for lo := smallSize; lo < n; lo += batch {
				if _, err := db.ExecContext(ctx, insert, lo, min(lo+batch, n)-1); err != nil {
					return nil, "", err
				}
			}
			if _, err := db.ExecContext(ctx, "ANALYZE "+table); err != nil {
				return nil, "", err
			}
			ids := make([]string, 0, n-smallSize)
			for i := smallSize; i < n; i++ {
				ids = append(ids, fmt.Sprintf("b%021d", i))
			}
			return ids, "copies of one session by INSERT … SELECT, 100,000 rows a statement", nil
		},
		footprint: func(ctx context.Context, n int) (string, error) {
			var total, heap, idx int64
			err := db.QueryRowContext(ctx, `SELECT pg_total_relation_size($1::regclass), pg_relation_size($1::regclass), pg_indexes_size($1::regclass)`,
				prefix+"sessions").Scan(&total, &heap, &idx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("sessions table %s on disk (%d bytes a session): rows %s, indexes %s",
				mib(total), total/int64(n), mib(heap), mib(idx)), nil
		},
	}, func() { db.Close() }, nil
}

// mib writes bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// printScale writes the scale table: a column per store.
func printScale(w io.Writer, results []scaleResult, size int, began time.Time) {
	fmt.Fprintf(w, "Scale: %d sessions against %d, %d lookups each (Store.Get, one at a time, random ids); started %s\n\n",
		size, smallSize, lookups, began.UTC().Format("2006-01-02 15:04 MST"))
	head, sep := "| measure |", "|---|"
	for _, r := range results {
		head += " " + map[string]string{"redis": "Redis", "postgres": "PostgreSQL"}[r.store] + " |"
		sep += "---|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	line := func(name string, f func(r scaleResult) string) {
		fmt.Fprintf(w, "| %s |", name)
		for _, r := range results {
			v := "skipped: " + r.skipped
			if r.skipped == "" {
				v = f(r)
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }
	ratio := func(a, b time.Duration) string {
		x := float64(b) / float64(a)
		v := "**FAIL**"
		if x <= maxRatio {
			v = "**PASS**"
		}
		return fmt.Sprintf("%.2f× (≤ %.1f×): %s", x, maxRatio, v)
	}
	line("fill", func(r scaleResult) string { return r.fill })
	line(fmt.Sprintf("Get p50 at %d", smallSize), func(r scaleResult) string { return us(r.small.p50) })
	line(fmt.Sprintf("Get p50 at %d", size), func(r scaleResult) string { return us(r.large.p50) })
	line("p50 ratio", func(r scaleResult) string { return ratio(r.small.p50, r.large.p50) })
	line(fmt.Sprintf("Get p99 at %d", smallSize), func(r scaleResult) string { return us(r.small.p99) })
	line(fmt.Sprintf("Get p99 at %d", size), func(r scaleResult) string { return us(r.large.p99) })
	line("p99 ratio", func(r scaleResult) string { return ratio(r.small.p99, r.large.p99) })
	line(fmt.Sprintf("List of a subject with %d", heavySessions), func(r scaleResult) string {
		return fmt.Sprintf("%.1f ms (%d sessions)", float64(r.list)/1e6, r.listed)
	})
	line("RevokeSubject of it", func(r scaleResult) string {
		return fmt.Sprintf("%.1f ms (%d sessions)", float64(r.revoke)/1e6, r.revoked)
	})
	line(fmt.Sprintf("memory / disk at %d", size+heavySessions), func(r scaleResult) string { return r.memory })
}

// randIndex returns a random index below n, from crypto/rand (as every
// random number in the repository is; the slight modulo bias is nothing
// to a benchmark's pick of ids).
func randIndex(n int) int {
	var b [8]byte
	rand.Read(b[:])
	return int(binary.BigEndian.Uint64(b[:]) % uint64(n))
}
