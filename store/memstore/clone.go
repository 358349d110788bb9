package memstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchauth/latch/internal/jsonclone"
	"github.com/latchauth/latch/store"
)

// cloneIn returns the copy of s to store: byte slices copied, Claims
// round-tripped through encoding/json, monotonic clock readings stripped
// so that times compare by wall clock as in any durable store.
func cloneIn(s *store.Session) (*store.Session, error) {
	c := *s
	if s.Claims != nil {
		b, err := json.Marshal(s.Claims)
		if err != nil {
			return nil, fmt.Errorf("memstore: claims: %w", err)
		}
		c.Claims = nil
		if err := json.Unmarshal(b, &c.Claims); err != nil {
			return nil, fmt.Errorf("memstore: claims: %w", err)
		}
	}
	c.SecretHash = bytes.Clone(s.SecretHash)
	c.RefreshHash = bytes.Clone(s.RefreshHash)
	c.Spent = cloneSpent(s.Spent)
	c.Actor = cloneActor(s.Actor)
	for _, t := range []*time.Time{&c.CreatedAt, &c.LastUsedAt, &c.RotatedAt, &c.FreshUntil, &c.AccessExpiresAt, &c.IdleUntil, &c.ExpiresAt} {
		*t = t.Round(0)
	}
	return &c, nil
}

// cloneOut returns a deep copy of a stored session.
func cloneOut(x *store.Session) store.Session {
	c := *x
	c.SecretHash = bytes.Clone(x.SecretHash)
	c.RefreshHash = bytes.Clone(x.RefreshHash)
	c.Spent = cloneSpent(x.Spent)
	c.Actor = cloneActor(x.Actor)
	if x.Claims != nil {
		c.Claims = jsonclone.Map(x.Claims)
	}
	return c
}

func cloneActor(a *store.Actor) *store.Actor {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

func cloneSpent(s [][]byte) [][]byte {
	if s == nil {
		return nil
	}
	c := make([][]byte, len(s))
	for i, b := range s {
		c[i] = bytes.Clone(b)
	}
	return c
}
