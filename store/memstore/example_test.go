package memstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

func ExampleNew() {
	ctx := context.Background()
	m := memstore.New()

	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	refresh := sha256.Sum256([]byte("refresh secret"))
	s := &store.Session{
		Subject:     "user-42",
		Device:      store.Device{Label: "Firefox on Linux"},
		RefreshHash: refresh[:],
		Claims:      map[string]any{"role": "admin", "level": 3},
		CreatedAt:   now,
		LastUsedAt:  now,
		IdleUntil:   now.Add(30 * 24 * time.Hour),
		ExpiresAt:   now.Add(90 * 24 * time.Hour),
	}
	if err := m.Create(ctx, s, 0); err != nil {
		panic(err)
	}
	fmt.Println("id assigned:", store.ValidID(s.ID))

	got, err := m.Get(ctx, s.ID, now.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Subject, "on", got.Device.Label)
	fmt.Printf("level %v (%T)\n", got.Claims["level"], got.Claims["level"])

	_, err = m.Get(ctx, s.ID, now.Add(31*24*time.Hour)) // idle too long
	fmt.Println(err)
	// Output:
	// id assigned: true
	// user-42 on Firefox on Linux
	// level 3 (float64)
	// store: session not found
}
