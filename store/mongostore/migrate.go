package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names Migrate gives; the collection's name already carries the
// prefix.
const (
	subjectIndex = "sub"
	ttlIndex     = "x_ttl"
	timeIndex    = "t" // of <prefix>changes: Watch polls by time
)

// Migrate prepares the collection for the Store, as sqlstore's Migrate
// prepares its tables. It returns promptly once ctx is done, and after
// one server selection (30 seconds unless the client says otherwise)
// when no server answers.
//
// Migrate refuses (ErrInvalid) a collection created with a default
// collation other than "simple": the store compares subjects, ids and
// strike keys byte for byte, and a case-insensitive collation would let a
// revocation of "alice" end the sessions of "ALICE".
//
// Migrate creates the collections' indexes: one on the subject of
// <prefix>sessions (List, RevokeSubject and capped Create query by it),
// one on the time of <prefix>changes (the change log Watch polls) and,
// where the server has them, a TTL index on x in all three, the date
// each document may be deleted at (the session's absolute expiry, the
// strike record's, the report's), creating <prefix>strikes and
// <prefix>changes first. It is idempotent and safe to run from many
// processes at once: creating an index that exists with the same
// definition does nothing.
//
// The TTL index is clean-up only; nothing relies on it. A server that
// refuses it as not implemented or not supported (FerretDB answers
// NotImplemented) is not an error: Migrate reports it once per Store
// through the error hook (see WithErrorHook) and returns nil, and the
// sweeper (WithSweepInterval) or a Sweep of your own takes its place.
func (s *Store) Migrate(ctx context.Context) error {
	const op = "migrate"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	if err := s.detect(ctx); err != nil {
		return err
	}
	if err := s.checkCollation(ctx); err != nil {
		return err
	}
	// The strikes and changes collections are created here, since
	// creating one with a first insert would race other inserts on
	// FerretDB ("database is locked"); strikes has no index but the TTL
	// one, which FerretDB refuses.
	for _, c := range []*mongo.Collection{s.strikes, s.changes} {
		if err := s.db.CreateCollection(ctx, c.Name()); err != nil && !hasCode(err, codeNamespaceExists) {
			return s.gate.Wrap(ctx, op, err)
		}
	}
	for _, ix := range []struct {
		c    *mongo.Collection
		key  string
		name string
	}{{s.c, "sub", subjectIndex}, {s.changes, "t", timeIndex}} {
		if _, err := ix.c.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: ix.key, Value: 1}},
			Options: options.Index().SetName(ix.name),
		}); err != nil {
			return s.gate.Wrap(ctx, op, err)
		}
	}
	for _, c := range []*mongo.Collection{s.c, s.strikes, s.changes} {
		if err := s.createTTL(ctx, c); err != nil {
			return s.gate.Wrap(ctx, op, err)
		}
	}
	return nil
}

// createTTL creates the TTL index on c's x, where the server has TTL
// indexes: see Migrate.
func (s *Store) createTTL(ctx context.Context, c *mongo.Collection) error {
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "x", Value: 1}},
		Options: options.Index().SetName(ttlIndex).SetExpireAfterSeconds(0),
	})
	if hasCode(err, codeNotImplemented, codeCommandNotSupported) && ctx.Err() == nil {
		if !s.ttlReported.Swap(true) {
			s.kit.Report(fmt.Errorf("%w: %w", errNoTTL, err))
		}
		return nil
	}
	return err
}

// detect asks the server's buildInfo whether it is FerretDB (which adds
// ferretdbVersion). On MongoDB, Get, Touch and Rotate then read a session
// and its activity with one query on _id $in; elsewhere (FerretDB, or a
// server that refuses buildInfo) with two concurrent finds by exact _id,
// since FerretDB scans the whole collection for anything but one exact
// _id. A server that cannot be reached is an error: the next step would
// only wait for it as long again.
func (s *Store) detect(ctx context.Context) error {
	var info bson.M
	err := s.db.Client().Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	var refused mongo.ServerError
	switch {
	case errors.As(err, &refused):
		return nil
	case err != nil:
		return s.gate.Wrap(ctx, "migrate", err)
	}
	_, ferret := info["ferretdbVersion"]
	s.oneQuery.Store(!ferret)
	return nil
}

// checkCollation refuses a collection of the Store whose default
// collation is not the simple, byte-wise one. A collection that does not
// exist yet is created by its first index, without collation.
func (s *Store) checkCollation(ctx context.Context) error {
	specs, err := s.db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: bson.D{{Key: "$in", Value: bson.A{s.c.Name(), s.strikes.Name()}}}}})
	if err != nil {
		return s.gate.Wrap(ctx, "migrate", err)
	}
	for _, spec := range specs {
		if err := collationErr(spec.Name, spec.Options); err != nil {
			return err
		}
	}
	return nil
}

// collationErr refuses the options of collection name if they hold a
// default collation other than simple.
func collationErr(name string, opts bson.Raw) error {
	if opts == nil {
		return nil
	}
	c, err := opts.LookupErr("collation")
	if err != nil {
		return nil // none
	}
	locale, _ := c.Document().Lookup("locale").StringValueOK()
	if locale != "simple" {
		return fmt.Errorf("%w: collection %s has a default collation (locale %q); the store needs byte-wise comparison: use a collection without one", ErrInvalid, name, locale)
	}
	return nil
}
