package mongostore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/latchauth/latch/store"
)

// read returns the session id with its activity (and, with fresh, its
// fresh document), or nil when there is no session document. On MongoDB
// (as Migrate found) it is one query for all of them; otherwise finds by
// exact _id, run concurrently: FerretDB serves only a filter on one exact
// _id from its index and scans the whole collection for an _id $in.
func (s *Store) read(ctx context.Context, op, id string, fresh bool) (*record, error) {
	ids := []string{id, activityID(id)}
	if fresh {
		ids = append(ids, freshID(id))
	}
	var docs []doc
	var err error
	if s.oneQuery.Load() {
		docs, err = s.findIn(ctx, ids)
	} else {
		docs, err = s.findEach(ctx, ids)
	}
	if err != nil {
		return nil, s.gate.Wrap(ctx, op, err)
	}
	if rs := records(docs); len(rs) > 0 && rs[0].s.ID == id {
		return &rs[0], nil
	}
	return nil, nil
}

// findIn returns the documents with the given ids: one query.
func (s *Store) findIn(ctx context.Context, ids []string) ([]doc, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var docs []doc
	err = cur.All(ctx, &docs)
	return docs, err
}

// findEach returns the documents with the given ids: one find by exact
// _id each, run concurrently.
func (s *Store) findEach(ctx context.Context, ids []string) ([]doc, error) {
	found := make([]doc, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&found[i]) })
	}
	wg.Wait()
	var docs []doc
	for i, err := range errs {
		switch {
		case err == nil:
			docs = append(docs, found[i])
		case !errors.Is(err, mongo.ErrNoDocuments):
			return nil, err
		}
	}
	return docs, nil
}

// Get returns the live session with id: one query.
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return nil, err
	}
	r, err := s.readLive(ctx, op, id, now, true)
	if err != nil {
		return nil, err
	}
	return r.session()
}

// readToWrite is readLive for a call that writes now into the session:
// a now beyond the range of BSON dates is ErrInvalid.
func (s *Store) readToWrite(ctx context.Context, op, id string, now time.Time) (*record, error) {
	if err := checkTime("now", now); err != nil {
		return nil, err
	}
	return s.readLive(ctx, op, id, now, false)
}

// readLive is read for a session that must be live at now: absent or
// dead, it is store.ErrNotFound.
func (s *Store) readLive(ctx context.Context, op, id string, now time.Time, fresh bool) (*record, error) {
	r, err := s.read(ctx, op, id, fresh)
	if err == nil && (r == nil || !r.live(nowDate(now))) {
		err = store.ErrNotFound
	}
	return r, err
}

// List returns subject's live sessions at now, newest first, ties by ID
// ascending: one query, sorted here, byte-wise, whatever the server's
// collation.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.gate.Enter(ctx, op); err != nil {
		return nil, err
	}
	docs, err := s.subjectDocs(ctx, op, subject)
	if err != nil {
		return nil, err
	}
	at := nowDate(now)
	var live []record
	for _, r := range records(docs) {
		if r.live(at) {
			live = append(live, r)
		}
	}
	slices.SortFunc(live, byListOrder)
	out := make([]store.Session, 0, len(live))
	for _, r := range live {
		x, err := r.session()
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, nil
}

// subjectDocs returns the session and activity documents of subject.
func (s *Store) subjectDocs(ctx context.Context, op, subject string) ([]doc, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: bson.D{{Key: "$ne", Value: kindClaim}}}})
	if err != nil {
		return nil, s.gate.Wrap(ctx, op, err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, s.gate.Wrap(ctx, op, err)
	}
	return docs, nil
}

// byListOrder: CreatedAt descending, then ID ascending byte-wise.
func byListOrder(a, b record) int {
	if c := b.s.Created.Time().Compare(a.s.Created.Time()); c != 0 {
		return c
	}
	return strings.Compare(a.s.ID, b.s.ID)
}
