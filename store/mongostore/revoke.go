package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/store"
)

// Revoke deletes subject's session id with its activity and claims (one
// delete) and, unless that certainly deleted nothing, reports the
// session in the change log (one insert).
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.gate.Enter(ctx, op); err != nil || !store.ValidID(id) {
		return err
	}
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "sid", Value: id}})
	if err == nil && res.DeletedCount == 0 {
		return nil
	}
	// A delete that failed may have landed: it is reported all the same.
	rerr := s.report(ctx, op, store.Change{Kind: store.ChangeSession, ID: id})
	if err != nil {
		return s.gate.Wrap(ctx, op, err)
	}
	return rerr
}

// RevokeSubject finds subject's sessions except keep, deletes their
// session documents (the count: sessions created meanwhile are neither
// deleted nor counted), reports them in the change log (one insert), then
// deletes their activity and claims.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.gate.Enter(ctx, op); err != nil {
		return 0, err
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: kindSession}, {Key: "sid", Value: bson.D{{Key: "$ne", Value: keep}}}},
		options.Find().SetProjection(bson.D{{Key: "sid", Value: 1}}))
	if err != nil {
		return 0, s.gate.Wrap(ctx, op, err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, s.gate.Wrap(ctx, op, err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.SID)
	}
	in := bson.D{{Key: "$in", Value: ids}}
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: kindSession}, {Key: "sid", Value: in}})
	// Every session found is reported, even when the delete failed (it
	// may have landed) or another call deleted some first.
	rerr := s.report(ctx, op, sessionChanges(subject, ids)...)
	if err != nil {
		return 0, s.gate.Wrap(ctx, op, err)
	}
	if rerr != nil {
		return int(res.DeletedCount), rerr
	}
	if _, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "sid", Value: in}}); err != nil {
		// The sessions are gone; what is left is unreachable and expires.
		return int(res.DeletedCount), s.gate.Wrap(ctx, op, err)
	}
	return int(res.DeletedCount), nil
}
