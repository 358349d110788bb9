package mongostore

import (
	"context"
	"errors"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/latchauth/latch/store"
)

// Create assigns s.ID and stores s. Without a cap it is one insert. With
// max > 0 it takes the subject's turn (see lock.go), deletes the
// subject's other sessions beyond the newest max-1 live ones and reports
// them in the change log, inserts the session and ends the turn.
func (s *Store) Create(ctx context.Context, x *store.Session, max int) error {
	const op = "create"
	if err := s.gate.EnterSession(ctx, op, x); err != nil {
		return err
	}
	if err := checkSessionTimes(x); err != nil {
		return err
	}
	if _, err := sessionDoc(x); err != nil {
		return err
	}
	if max <= 0 {
		return s.insert(ctx, x)
	}
	return s.inTurn(ctx, op, x, func(ctx context.Context) (bool, error) {
		// A failed eviction leaves nothing of ours on its way but deletes
		// of sessions chosen already: settled.
		if err := s.evict(ctx, x, max); err != nil {
			return true, err
		}
		err := s.insert(ctx, x)
		var se mongo.ServerError
		return err == nil || errors.As(err, &se), err
	})
}

// insert assigns x.ID and inserts the session.
func (s *Store) insert(ctx context.Context, x *store.Session) error {
	for {
		x.ID = store.NewID()
		d, err := sessionDoc(x)
		if err != nil {
			return err
		}
		_, err = s.c.InsertOne(ctx, d)
		if mongo.IsDuplicateKeyError(err) && ctx.Err() == nil {
			continue // 128 random bits collided: draw again
		}
		return s.gate.Wrap(ctx, "create", err)
	}
}

// evict deletes the sessions of x's subject that are dead at x.CreatedAt
// and the live ones beyond the newest max-1, and reports them in the
// change log.
func (s *Store) evict(ctx context.Context, x *store.Session, max int) error {
	docs, err := s.subjectDocs(ctx, "create", x.Subject)
	if err != nil {
		return err
	}
	at := nowDate(x.CreatedAt)
	var live []record
	var gone []string
	for _, r := range records(docs) {
		if r.live(at) {
			live = append(live, r)
		} else {
			gone = append(gone, r.s.ID)
		}
	}
	slices.SortFunc(live, byListOrder)
	for _, r := range live[min(len(live), max-1):] {
		gone = append(gone, r.s.ID)
	}
	if len(gone) == 0 {
		return nil
	}
	_, err = s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: x.Subject}, {Key: "sid", Value: bson.D{{Key: "$in", Value: gone}}}})
	// Reported even when the delete failed: it may have landed.
	rerr := s.report(ctx, "create", sessionChanges(x.Subject, gone)...)
	if err != nil {
		return s.gate.Wrap(ctx, "create", err)
	}
	return rerr
}
