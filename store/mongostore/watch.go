package mongostore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Watcher = (*Store)(nil)

// Changes are reported through a change log that every Watch polls:
// the collection <prefix>changes, one document per change (a report),
// inserted by the method that made the change once it can be read.
// Neither FerretDB nor a standalone MongoDB has change streams, and
// neither has a sequence the server hands out, so a report carries its
// writer's clock (t, in milliseconds) and a random _id, and a watcher
// polls for the reports whose t is no older than its previous poll's
// start minus a margin that covers the clocks' skew and a report's own
// latency, remembering the _ids it delivered within that window.

// Defaults of the change log's options.
const (
	// DefaultWatchInterval is how often Watch polls the change log
	// unless WithWatchInterval says otherwise.
	DefaultWatchInterval = 50 * time.Millisecond
	// DefaultWatchMargin is how far back before its previous poll Watch
	// looks unless WithWatchMargin says otherwise.
	DefaultWatchMargin = 2 * time.Second
)

// WithWatchMargin's bounds: at least long enough for a report's insert
// (which gets half the margin) on a loaded server, at most well below
// reportKeep, since a report must outlive every window that may still
// hold it.
const (
	minWatchMargin = 200 * time.Millisecond
	maxWatchMargin = time.Minute
)

// reportKeep is how long a report is kept: its x is its t plus this.
// A Watch whose polls fall further apart than half of it ends (see
// Watch).
const reportKeep = 5 * time.Minute

// pruneEvery is how often a Watch deletes reports past their x.
const pruneEvery = time.Minute

// maxReportIDs bounds the sessions one report names: a RevokeSubject or
// an eviction of more reports their subject instead.
const maxReportIDs = 1000

// changeDoc is a report: one or more changes in the text form of
// storekit.ChangeText.
type changeDoc struct {
	ID       string        `bson:"_id"` // random: store.NewID
	Time     bson.DateTime `bson:"t"`   // the writer's clock as it wrote
	Changes  []string      `bson:"c"`
	ExpireAt bson.DateTime `bson:"x"` // t + reportKeep: the TTL index and Sweep delete by it
}

// WithWatchInterval sets how often Watch polls the change log (default
// 50 ms): a report reaches a watcher within about one interval plus a
// poll's round trip. Each Watch costs one find per interval. d must be
// positive, else ErrInvalid.
func WithWatchInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("watch interval must be positive")
		}
		c.watchInterval = d
		return nil
	}
}

// WithWatchMargin sets how far before its previous poll's start each
// poll of Watch looks (default 2 s): it must cover the skew between the
// clocks of the processes sharing the database plus the time a report
// takes to land. A report is given half the margin to land (its insert
// gives up after that and the method that made the change fails), so the
// clocks must agree within the other half (1 s by default; NTP does
// better). A report whose time lies further back than the margin when a
// poll begins may be missed. d must be between 200 ms and a minute, else
// ErrInvalid.
func WithWatchMargin(d time.Duration) Option {
	return func(c *config) error {
		if d < minWatchMargin || d > maxWatchMargin {
			return fmt.Errorf("watch margin must be between %s and %s", minWatchMargin, maxWatchMargin)
		}
		c.watchMargin = d
		return nil
	}
}

// Watches reports true (see store.Watcher): every server that speaks
// MongoDB's protocol can hold the change log.
func (*Store) Watches() bool { return true }

// sessionChanges returns the reports of the sessions ids of subject: one
// per session, or the subject alone when they are more than
// maxReportIDs.
func sessionChanges(subject string, ids []string) []store.Change {
	if len(ids) > maxReportIDs {
		return []store.Change{{Kind: store.ChangeSubject, ID: subject}}
	}
	cs := make([]store.Change, len(ids))
	for i, id := range ids {
		cs[i] = store.Change{Kind: store.ChangeSession, ID: id}
	}
	return cs
}

// report inserts one report of cs into the change log: call it once the
// changes can be read. It runs even if ctx is done meanwhile, giving up
// half the watch margin after the report's time: a report that landed
// later could fall behind a watcher's window. An error returned after
// ctx is done wraps ctx.Err().
func (s *Store) report(ctx context.Context, op string, cs ...store.Change) error {
	texts := make([]string, len(cs))
	for i, c := range cs {
		texts[i] = storekit.ChangeText(c)
	}
	t := time.Now()
	rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), t.Add(s.margin/2))
	defer cancel()
	_, err := s.changes.InsertOne(rctx, changeDoc{ID: store.NewID(), Time: bson.DateTime(t.UnixMilli()), Changes: texts, ExpireAt: date(t.Add(s.keep))})
	if err != nil {
		return callerErr(ctx, op, s.gate.Wrap(rctx, op+": reporting the change", err))
	}
	return nil
}

// Watch implements store.Watcher by polling the change log every watch
// interval. Its first poll finds where to start: the reports it finds
// were made before Watch began, and are not delivered; ChangeReady
// follows it. Each later poll asks for the reports whose time is no
// older than the previous poll's start minus the watch margin, and
// delivers those it has not delivered yet, oldest first. A beat found by
// one poll is delivered after the next poll, which began after the
// beat's report landed and so finds every report that landed before it.
// Every pruneEvery it deletes the reports past their time to go, whose
// failures go to the error hook.
//
// It returns with an error when a poll fails, when a report cannot be
// read, or when two polls began further apart than half the time reports
// are kept (the reports in between may be gone): the caller must then
// assume anything changed. It returns ErrClosed once the Store is
// closed.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) error {
	const op = "watch"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	p := poller{s: s, seen: map[string]bson.DateTime{}}
	if _, err := p.poll(ctx, time.Now()); err != nil {
		return s.gate.Wrap(ctx, op, err)
	}
	fn(store.Change{Kind: store.ChangeReady})
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	var due []store.Change // beats the previous poll found
	pruned := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return s.gate.Wrap(ctx, op, ctx.Err())
		case <-tick.C:
		}
		if err := s.gate.Enter(ctx, op); err != nil {
			return err
		}
		began := time.Now()
		if gap := began.Sub(p.began); gap > s.keep/2 {
			return s.gate.Wrap(ctx, op, fmt.Errorf("polls of the change log fell %s apart; reports may have been deleted in between", gap.Round(time.Second)))
		}
		found, err := p.poll(ctx, began)
		if err != nil {
			return s.gate.Wrap(ctx, op, err)
		}
		var beats []store.Change
		for _, c := range found {
			if c.Kind == store.ChangeBeat {
				beats = append(beats, c)
				continue
			}
			fn(c)
		}
		for _, c := range due {
			fn(c)
		}
		due = beats
		if began.Sub(pruned) >= s.pruneEvery {
			pruned = began
			s.kit.Report(s.gate.Wrap(ctx, "watch: deleting old reports", s.prune(ctx, began)))
		}
	}
}

// poller is the state of one Watch between its polls.
type poller struct {
	s     *Store
	began time.Time                // the start of the latest poll, by our clock; zero before the first
	seen  map[string]bson.DateTime // _id and t of the reports found in the window
}

// poll reads the reports of the window that began (the previous poll's
// start, or this one's for the first poll, minus the margin) and returns
// the changes of those it had not found before, oldest first; the first
// poll returns none. It then forgets the reports the next window no
// longer holds.
func (p *poller) poll(ctx context.Context, began time.Time) ([]store.Change, error) {
	first := p.began.IsZero()
	from := p.began
	if first {
		from = began
	}
	cur, err := p.s.changes.Find(ctx, bson.D{{Key: "t", Value: bson.D{{Key: "$gte", Value: bson.DateTime(from.Add(-p.s.margin).UnixMilli())}}}})
	if err != nil {
		return nil, err
	}
	var docs []changeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	slices.SortFunc(docs, func(a, b changeDoc) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.ID, b.ID)) })
	var found []store.Change
	for _, d := range docs {
		if _, ok := p.seen[d.ID]; ok {
			continue
		}
		p.seen[d.ID] = d.Time
		if len(d.Changes) == 0 {
			return nil, errors.New("a document in the change log is not a report")
		}
		for _, text := range d.Changes {
			c, ok := storekit.ParseChange(text)
			if !ok {
				return nil, errors.New("a document in the change log is not a report")
			}
			if !first {
				found = append(found, c)
			}
		}
	}
	p.began = began
	next := bson.DateTime(began.Add(-p.s.margin).UnixMilli())
	for id, t := range p.seen {
		if t < next {
			delete(p.seen, id)
		}
	}
	return found, nil
}

// prune deletes the reports whose time to go has passed at now.
func (s *Store) prune(ctx context.Context, now time.Time) error {
	_, err := s.changes.DeleteMany(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$lt", Value: date(now)}}}})
	return err
}

// Beat implements store.Watcher with one insert into the change log: a
// report of the beat, which every Watch on the database delivers after
// the next poll that follows the one that found it (see Watch).
func (s *Store) Beat(ctx context.Context, id string) error {
	const op = "beat"
	if err := s.gate.EnterBeat(ctx, op, id); err != nil {
		return err
	}
	return s.report(ctx, op, store.Change{Kind: store.ChangeBeat, ID: id})
}
