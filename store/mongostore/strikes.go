package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/store"
)

var _ store.Throttle = (*Store)(nil)

// The strikes of a key are a chain of documents in <prefix>strikes, one
// per change: strike number q of key is the document
// "<len(key), 2 digits><key>/<q, 20 digits>", and it holds the record as
// that change left it. A change reads the newest document of the key and
// inserts the next number: the unique _id index lets exactly one of the
// changes that read document q have q+1, and the others read again. So
// the changes of one key apply one after the other, each to the state the
// previous one left, without a read-modify-write (which FerretDB does not
// make atomic) and without a transaction. ClearStrikes inserts a document
// of Count 0 the same way, so a strike that read the record before the
// clear cannot write after it.
//
// Documents are never updated and only deleted by Sweep (and the TTL
// index), by x, which never decreases along a chain: a deletion removes
// the oldest documents of a chain first. A change that read document q
// could insert q+1 after the sweep removed a q+1 written meanwhile only
// if its insert arrived more than the sweep grace after the record had
// expired; see the package doc.

// strikeDoc is one document of a chain.
type strikeDoc struct {
	ID    string        `bson:"_id"`
	Seq   int64         `bson:"q"`
	Owner string        `bson:"o"`           // the nonce of the change that wrote it
	Count int64         `bson:"n"`           // 0: cleared
	Last  bson.DateTime `bson:"t,omitempty"` // the latest strike
	Until bson.DateTime `bson:"e,omitempty"` // the record expires: Last + ttl
	// ExpireAt is when the document may go: the latest Until of the chain
	// so far. The TTL index and Sweep delete by it.
	ExpireAt bson.DateTime `bson:"x"`
}

// strikePrefix is the prefix of key's documents: the length makes it
// unique, so no key's range holds another key's documents.
func strikePrefix(key string) string { return fmt.Sprintf("%02d%s/", len(key), key) }

func strikeID(key string, seq int64) string { return fmt.Sprintf("%s%020d", strikePrefix(key), seq) }

// live reports whether the record d holds is live at now.
func (d *strikeDoc) live(now bson.DateTime) bool {
	return d != nil && d.Count > 0 && now < d.Until
}

// strikes returns the record d holds at now.
func (d *strikeDoc) strikes(now bson.DateTime) store.Strikes {
	if !d.live(now) {
		return store.Strikes{}
	}
	return store.Strikes{Count: int(d.Count), Last: fromDate(d.Last)}
}

// AddStrike implements store.Throttle: it appends the record's next state
// to key's chain (see above). A ttl that is not positive is ErrInvalid.
func (s *Store) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	const op = "add strike"
	if err := s.gate.Enter(ctx, op); err != nil {
		return store.Strikes{}, err
	}
	if err := s.gate.CheckStrikeKeys(key); err != nil {
		return store.Strikes{}, err
	}
	if ttl <= 0 {
		return store.Strikes{}, s.gate.Invalid(errors.New("strike ttl must be positive"))
	}
	if err := checkTime("now", now); err != nil {
		return store.Strikes{}, err
	}
	at := nowDate(now)
	d, err := s.changeStrikes(ctx, op, key, func(top *strikeDoc) *strikeDoc {
		next := &strikeDoc{Count: 1, Last: at}
		if top.live(at) {
			next.Count, next.Last = top.Count+1, max(top.Last, at)
		}
		next.Until = date(fromDate(next.Last).Add(ttl))
		if fromDate(next.Last).Add(ttl).After(maxTime) {
			next.Until = nowDate(maxTime)
		}
		next.ExpireAt = next.Until
		if top != nil {
			next.ExpireAt = max(top.ExpireAt, next.Until)
		}
		return next
	})
	if err != nil {
		return store.Strikes{}, err
	}
	return d.strikes(at), nil
}

// ClearStrikes implements store.Throttle: for each key with a record it
// appends a cleared state (Count 0) to the key's chain, which Sweep
// removes once the record it replaced would have expired.
func (s *Store) ClearStrikes(ctx context.Context, keys []string) error {
	const op = "clear strikes"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	if err := s.gate.CheckStrikeKeys(keys...); err != nil {
		return err
	}
	for _, key := range keys {
		_, err := s.changeStrikes(ctx, op, key, func(top *strikeDoc) *strikeDoc {
			if top == nil || top.Count == 0 {
				return nil // absent or cleared: nothing to do
			}
			return &strikeDoc{ExpireAt: top.ExpireAt}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Strikes implements store.Throttle: one query per key, run concurrently.
func (s *Store) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	const op = "strikes"
	if err := s.gate.Enter(ctx, op); err != nil {
		return nil, err
	}
	if err := s.gate.CheckStrikeKeys(keys...); err != nil {
		return nil, err
	}
	out := make([]store.Strikes, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	at := nowDate(now)
	for i, key := range keys {
		wg.Go(func() {
			var d *strikeDoc
			d, errs[i] = s.newestStrike(ctx, key)
			out[i] = d.strikes(at)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, s.gate.Wrap(ctx, op, err)
	}
	return out, nil
}

// changeStrikes appends next(top) to key's chain, top being the newest
// document (nil if none), and returns what it appended; when next returns
// nil it writes nothing and returns top. When another change appended
// first, it reads again.
func (s *Store) changeStrikes(ctx context.Context, op, key string, next func(top *strikeDoc) *strikeDoc) (*strikeDoc, error) {
	for {
		if err := s.gate.Enter(ctx, op); err != nil {
			return nil, err
		}
		top, err := s.newestStrike(ctx, key)
		if err != nil {
			return nil, s.gate.Wrap(ctx, op, err)
		}
		d := next(top)
		if d == nil {
			return top, nil
		}
		if top != nil {
			d.Seq = top.Seq + 1
		}
		d.ID, d.Owner = strikeID(key, d.Seq), store.NewID()
		ok, err := s.appendStrike(ctx, d)
		if err != nil {
			return nil, s.gate.Wrap(ctx, op, err)
		}
		if ok {
			return d, nil
		}
	}
}

// appendStrike inserts d and reports whether it is in: a duplicate key is
// another change's document, or ours, inserted by a retry whose first
// reply was lost, and any other error may hide an insert that landed, so
// it reads the document back (even if ctx is done meanwhile, for at most
// 2 seconds: a strike that landed is never reported as failed).
func (s *Store) appendStrike(ctx context.Context, d *strikeDoc) (bool, error) {
	_, err := s.strikes.InsertOne(ctx, d)
	if err == nil {
		return true, nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
	defer cancel()
	var got strikeDoc
	rerr := s.strikes.FindOne(fctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&got)
	switch {
	case rerr == nil && got.Owner == d.Owner:
		return true, nil
	case rerr == nil && mongo.IsDuplicateKeyError(err):
		return false, nil
	case errors.Is(rerr, mongo.ErrNoDocuments) && mongo.IsDuplicateKeyError(err):
		return false, nil // appended and swept meanwhile: read again
	}
	return false, err
}

// newestStrike returns key's newest document, nil if it has none.
func (s *Store) newestStrike(ctx context.Context, key string) (*strikeDoc, error) {
	p := strikePrefix(key)
	var d strikeDoc
	err := s.strikes.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: p}, {Key: "$lt", Value: p + ":"}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}
