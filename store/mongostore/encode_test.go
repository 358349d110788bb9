package mongostore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

// IdleTimeout and Actor round-trip exactly, nil Actor and an Actor of
// empty strings told apart, through Get and List; an Actor beyond the
// limits of package store is refused before any write; a session document
// written before they existed reads as IdleTimeout 0, Actor nil.
func TestSessionFieldsRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for _, c := range []struct {
		name  string
		idle  time.Duration
		actor *store.Actor
	}{
		{"own-login", 0, nil},
		{"idle-timeout", 10*time.Minute + time.Nanosecond, nil},
		{"actor", 0, &store.Actor{Subject: "staff@example.com", SessionID: store.NewID()}},
		{"empty-actor", 0, &store.Actor{}},
		{"unicode-actor", time.Hour, &store.Actor{Subject: "stäff ✓", SessionID: strings.Repeat("z", store.IDLen)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := session("rt-"+c.name, now)
			x.IdleTimeout, x.Actor = c.idle, c.actor
			if err := s.Create(ctx, x, 0); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, x.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			listed, err := s.List(ctx, x.Subject, now)
			if err != nil || len(listed) != 1 {
				t.Fatalf("List = %d sessions, %v", len(listed), err)
			}
			for _, g := range []*store.Session{got, &listed[0]} {
				if g.IdleTimeout != c.idle || !reflect.DeepEqual(g.Actor, c.actor) {
					t.Errorf("read IdleTimeout %v, Actor %#v; want %v, %#v", g.IdleTimeout, g.Actor, c.idle, c.actor)
				}
			}
		})
	}

	t.Run("binary-actor", func(t *testing.T) {
		for _, a := range []*store.Actor{
			{Subject: "st\xffaff", SessionID: store.NewID()},
			{Subject: "staff\x00", SessionID: store.NewID()},
			{Subject: "staff", SessionID: "\xfe"},
			{Subject: "staff", SessionID: store.NewID() + "x"},
		} {
			x := session("rt-binary-actor", now)
			x.Actor = a
			if err := s.Create(ctx, x, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("Create with Actor %q = %v, want ErrInvalid", *a, err)
			}
		}
		if l, err := s.List(ctx, "rt-binary-actor", now); err != nil || len(l) != 0 {
			t.Errorf("List after refused creates = %d sessions, %v; want none", len(l), err)
		}
	})

	t.Run("document-from-before", func(t *testing.T) {
		x := session("old", now)
		x.ID = store.NewID()
		d, err := sessionDoc(x)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var m bson.M
		if err := bson.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"it", "ac"} {
			if _, ok := m[f]; ok {
				t.Fatalf("a session without IdleTimeout and Actor encodes %s", f)
			}
		}
		insertRaw(t, s, m)
		got, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.IdleTimeout != 0 || got.Actor != nil {
			t.Errorf("an old document reads IdleTimeout %v, Actor %#v; want 0, nil", got.IdleTimeout, got.Actor)
		}
	})
}

// Touch slides IdleUntil by the session's own IdleTimeout when it is
// shorter than the idle timeout passed, and by the one passed otherwise;
// a rotation keeps IdleTimeout.
func TestTouchIdleTimeout(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for _, c := range []struct {
		own, want time.Duration
	}{
		{0, time.Hour},
		{10 * time.Minute, 10 * time.Minute},
		{3 * time.Hour, time.Hour},
	} {
		x := session("alice", now)
		x.IdleTimeout = c.own
		if err := s.Create(ctx, x, 0); err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Minute)
		if err := s.Touch(ctx, x.ID, at, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, x.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if !got.IdleUntil.Equal(at.Add(c.want)) || !got.LastUsedAt.Equal(at) {
			t.Errorf("IdleTimeout %v: IdleUntil %s, LastUsedAt %s; want %s, %s", c.own, got.IdleUntil, got.LastUsedAt, at.Add(c.want), at)
		}
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: at.Add(time.Minute), KeepSpent: 1}
		if err := s.Rotate(ctx, x.ID, r, at); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, x.ID, at); err != nil || got.IdleTimeout != c.own {
			t.Errorf("after Rotate: %v, IdleTimeout %v; want %v", err, got.IdleTimeout, c.own)
		}
	}
}
