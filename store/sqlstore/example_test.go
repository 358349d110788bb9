package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/sqlstore"
	_ "github.com/latchauth/latch/store/sqlstore/sqlite" // sqlite: URLs for Open
)

// An application that owns its *sql.DB hands it to New with its dialect
// and migrates once at start-up. The store never closes the pool.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "latch")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	// For SQLite, give every connection a busy timeout (and prefer WAL):
	// writers from several connections then wait for each other instead of
	// failing with "database is locked".
	db, err := sql.Open("sqlite", filepath.Join(dir, "latch.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		panic(err)
	}
	defer db.Close()

	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTablePrefix("auth_"), sqlstore.WithErrorHook(func(err error) {
		fmt.Println("sweeper:", err) // or your logger, metrics…
	}))
	if err != nil {
		panic(err)
	}
	defer s.Close() // stops the sweeper
	if err := s.Migrate(ctx); err != nil {
		panic(err)
	}

	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	refresh := sha256.Sum256([]byte("refresh secret"))
	sess := &store.Session{
		Subject:     "user-42",
		Device:      store.Device{Label: "Firefox on Linux"},
		RefreshHash: refresh[:],
		CreatedAt:   now,
		LastUsedAt:  now,
		IdleUntil:   now.Add(30 * 24 * time.Hour),
		ExpiresAt:   now.Add(90 * 24 * time.Hour),
	}
	if err := s.Create(ctx, sess, 5); err != nil { // at most 5 devices
		panic(err)
	}
	list, err := s.List(ctx, "user-42", now)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(list), list[0].Device.Label)
	// Output: 1 Firefox on Linux
}

// A configuration string names the store; the URL-opened store migrates on
// open and owns its connection pool. store.Open(ctx, "sqlite::memory:")
// runs the same Open, once a driver package registered the scheme.
func ExampleOpen() {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		panic(err)
	}
	defer s.Close() // also closes the database

	now := time.Now()
	sess := &store.Session{
		Subject:     "alice",
		RefreshHash: []byte("h1"),
		CreatedAt:   now,
		IdleUntil:   now.Add(time.Hour),
		ExpiresAt:   now.Add(24 * time.Hour),
	}
	if err := s.Create(ctx, sess, 0); err != nil {
		panic(err)
	}
	got, err := s.Get(ctx, sess.ID, now)
	fmt.Println(got.Subject, err)

	// A revoked (or expired, or unknown) session is store.ErrNotFound;
	// anything else is the database failing.
	if err := s.Revoke(ctx, "alice", sess.ID); err != nil {
		panic(err)
	}
	_, err = s.Get(ctx, sess.ID, now)
	fmt.Println(errors.Is(err, store.ErrNotFound))

	// Output:
	// alice <nil>
	// true
}

// Of two refreshes presenting the same refresh hash, one wins; the other
// gets store.ErrConflict.
func ExampleStore_Rotate() {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite::memory:?latch_sweep_interval=0")
	if err != nil {
		panic(err)
	}
	defer s.(*sqlstore.Store).Close()

	now := time.Now()
	sess := &store.Session{Subject: "alice", RefreshHash: []byte("h1"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(ctx, sess, 0); err != nil {
		panic(err)
	}
	r := store.Rotation{Old: []byte("h1"), RefreshHash: []byte("h2"), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
	fmt.Println(s.Rotate(ctx, sess.ID, r, now))
	err = s.Rotate(ctx, sess.ID, r, now)
	fmt.Println(errors.Is(err, store.ErrConflict))
	// Output:
	// <nil>
	// true
}
