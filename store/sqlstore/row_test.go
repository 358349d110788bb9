package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestActorAndIdleTimeout: both round-trip exactly through Create, Get
// and List: a nil Actor as nil, an empty one as empty but set, the
// largest ones whole; an IdleTimeout to the nanosecond. Actors beyond the
// limits of package store are refused before any query.
func TestActorAndIdleTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		s := newStore(t, db)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		for name, c := range map[string]struct {
			actor *store.Actor
			idle  time.Duration
		}{
			"own login":     {nil, 0},
			"empty actor":   {&store.Actor{}, 90 * time.Second},
			"largest actor": {&store.Actor{Subject: strings.Repeat("é", store.MaxSubjectLen/2), SessionID: store.NewID()}, 1234567891},
			"short id":      {&store.Actor{Subject: "support\u00a0staff", SessionID: "s1"}, -time.Second},
		} {
			t.Run(name, func(t *testing.T) {
				subject := "alice-" + strings.ReplaceAll(name, " ", "-")
				x := &store.Session{Subject: subject, RefreshHash: []byte("r"), CreatedAt: now, LastUsedAt: now,
					IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour), IdleTimeout: c.idle, Actor: c.actor}
				if err := s.Create(ctx, x, 2); err != nil {
					t.Fatalf("Create: %v", err)
				}
				got, err := s.Get(ctx, x.ID, now)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				l, err := s.List(ctx, subject, now)
				if err != nil || len(l) != 1 {
					t.Fatalf("List = %d sessions, %v", len(l), err)
				}
				for from, g := range map[string]*store.Session{"Get": got, "List": &l[0]} {
					if !reflect.DeepEqual(g.Actor, c.actor) || g.IdleTimeout != c.idle {
						t.Errorf("%s: Actor %+v, IdleTimeout %v; want %+v, %v", from, g.Actor, g.IdleTimeout, c.actor, c.idle)
					}
				}
				if c.actor != nil && got.Actor == c.actor {
					t.Error("Get returned the caller's *Actor")
				}
			})
		}

		t.Run("beyond-the-limits", func(t *testing.T) {
			for name, a := range map[string]*store.Actor{
				"long subject":    {Subject: strings.Repeat("x", store.MaxSubjectLen+1), SessionID: store.NewID()},
				"subject NUL":     {Subject: "a\x00b"},
				"long session id": {Subject: "bob", SessionID: store.NewID() + "x"},
				"bad session id":  {Subject: "bob", SessionID: "\xff"},
			} {
				x := &store.Session{Subject: "carol", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour), Actor: a}
				if err := brokenStore(t, b).Create(ctx, x, 0); !errors.Is(err, ErrInvalid) {
					t.Errorf("%s: Create on an unreachable database = %v, want ErrInvalid before any query", name, err)
				}
			}
		})
	})
}
