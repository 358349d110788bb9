package mongostore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/store"
)

var _ store.Bounded = (*Store)(nil)

// Bounded reports true: the driver ends a call, network reads included,
// when its context is done (see store.Bounded).
func (*Store) Bounded() bool { return true }

// Store is a store.Store in a MongoDB database (or a server speaking its
// wire protocol, such as FerretDB), safe for concurrent use by many
// goroutines and many processes sharing the database. Create one with New
// (or Open), and call Setup once before use.
type Store struct {
	db     *mongo.Database
	c      *mongo.Collection
	prefix string
	owned  bool // Close also disconnects the client (stores from Open)
	clock  func() time.Time
	hook   func(error)
	every  time.Duration
	grace  time.Duration
	writes atomic.Int64 // write commands sent, for tests

	ttlReported atomic.Bool   // the TTL index's refusal went to the hook
	afterRead   func()        // tests: called by Rotate after its read
	oneQuery    atomic.Bool   // Setup found MongoDB: read both documents with one $in
	lease       time.Duration // how long a turn may stay unfinished: see lock.go

	closed    atomic.Bool
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*config) error

type config struct {
	prefix string
	every  time.Duration
	grace  time.Duration
	hook   func(error)
	clock  func() time.Time
}

// DefaultCollectionPrefix prefixes the collection a Store uses unless
// WithCollectionPrefix says otherwise: its one collection is
// <prefix>sessions.
const DefaultCollectionPrefix = "latch_"

// DefaultSweepGrace is how long past its expiry a document survives Sweep
// unless WithSweepGrace says otherwise.
const DefaultSweepGrace = 5 * time.Minute

// followUpTimeout bounds the steps that finish a Rotate once its read is
// done, even after the caller's context is done: see Rotate. (A capped
// Create has turnBudget and endBudget: see lock.go.)
const followUpTimeout = 2 * time.Second

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WithCollectionPrefix sets the prefix of the collection's name (default
// "latch_"): one to 40 ASCII letters, digits and underscores, not
// starting with a digit. Two Stores with different prefixes share
// nothing, so one database can hold several.
func WithCollectionPrefix(p string) Option {
	return func(c *config) error {
		if len(p) > 40 || !prefixRE.MatchString(p) {
			return fmt.Errorf("%w: collection prefix must match [A-Za-z_][A-Za-z0-9_]* and be 1 to 40 characters", ErrInvalid)
		}
		c.prefix = p
		return nil
	}
}

// WithSweepInterval starts a goroutine that calls Sweep every d with the
// time from WithClock (default 0: no sweeper). On MongoDB the TTL index
// that Setup creates deletes expired documents already, so the sweeper
// only duplicates its work; turn it on where the server has no TTL
// indexes (FerretDB: Setup then reports so to the error hook). Expired
// sessions read as absent either way: clean-up only frees space, and
// without any the collection grows by a few documents per login that is
// never revoked. A negative d is ErrInvalid.
func WithSweepInterval(d time.Duration) Option {
	return duration("sweep interval", d, func(c *config) { c.every = d })
}

// WithSweepGrace sets how long after its expiry a document is kept
// (default 5 minutes): Sweep(ctx, now) deletes only what expired before
// now - d, so a node whose clock runs ahead of the others' does not delete
// sessions they still consider live. A negative d is ErrInvalid.
func WithSweepGrace(d time.Duration) Option {
	return duration("sweep grace", d, func(c *config) { c.grace = d })
}

// duration is an Option that refuses a negative d, else calls set.
func duration(what string, d time.Duration, set func(*config)) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative %s", ErrInvalid, what)
		}
		set(c)
		return nil
	}
}

// WithErrorHook sets the function that background work and best-effort
// steps report their errors to: the sweeper's failures, a server that
// refuses the TTL index (reported once per Store), clean-up after a
// Rotate. It may be called from several goroutines at once (the
// sweeper's, and those of calls whose clean-up step failed), so it must be
// safe for concurrent use; no error it gets holds a token or a hash. The
// default discards them: nothing is written to the standard logger.
func WithErrorHook(f func(error)) Option {
	return func(c *config) error {
		c.hook = f
		return nil
	}
}

// WithClock sets the sweeper's clock (default time.Now). It decides
// nothing else: every method of store.Store takes its now from the caller.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now != nil {
			c.clock = now
		}
		return nil
	}
}

// New returns a Store that keeps sessions in db's collection
// <prefix>sessions. New does no I/O; call Setup once before the first use
// (it is idempotent, so calling it at every start is fine). The Store
// never disconnects db's client; Close stops its sweeper only.
func New(db *mongo.Database, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *mongo.Database", ErrInvalid)
	}
	c := config{prefix: DefaultCollectionPrefix, grace: DefaultSweepGrace, clock: time.Now}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	s := &Store{
		db:     db,
		c:      db.Collection(c.prefix + "sessions"),
		prefix: c.prefix,
		clock:  c.clock,
		hook:   c.hook,
		every:  c.every,
		grace:  c.grace,
		lease:  lockLease,
	}
	s.startSweeper()
	return s, nil
}

// Collection returns the collection the Store keeps its documents in.
func (s *Store) Collection() *mongo.Collection { return s.c }

// Close makes every later call of a method fail with ErrClosed (an
// outage, never store.ErrNotFound), stops the sweeper and waits for it to
// return. It disconnects the client only when the Store came from Open;
// a *mongo.Database passed to New belongs to the caller. Close is
// idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
			<-s.done
		}
		if s.owned {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.db.Client().Disconnect(ctx); err != nil {
				s.closeErr = fmt.Errorf("mongostore: disconnect: %w", err)
			}
		}
	})
	return s.closeErr
}

// usable returns the error a call must fail with before any I/O: a done
// context, then a closed Store.
func (s *Store) usable(ctx context.Context, op string) error {
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	if s.closed.Load() {
		return fmt.Errorf("mongostore: %s: %w", op, ErrClosed)
	}
	return nil
}

func (s *Store) report(err error) {
	if err != nil && s.hook != nil {
		s.hook(err)
	}
}

// read returns the session id with its activity, or nil when there is
// no session document. On MongoDB (as Setup found) it is one query for
// both documents; otherwise two finds by exact _id, run concurrently:
// FerretDB serves only a filter on one exact _id from its index and
// scans the whole collection for an _id $in.
func (s *Store) read(ctx context.Context, op, id string) (*record, error) {
	if !s.oneQuery.Load() {
		return s.readSplit(ctx, op, id)
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{id, activityID(id)}}}}})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if rs := records(docs); len(rs) > 0 {
		return &rs[0], nil
	}
	return nil, nil
}

func (s *Store) readSplit(ctx context.Context, op, id string) (*record, error) {
	var a doc
	var aErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		aErr = s.c.FindOne(ctx, bson.D{{Key: "_id", Value: activityID(id)}}).Decode(&a)
	}()
	var d doc
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	<-done
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, nil
	case err != nil:
		return nil, wrap(ctx, op, err)
	case aErr != nil && !errors.Is(aErr, mongo.ErrNoDocuments):
		return nil, wrap(ctx, op, aErr)
	case d.Kind != kindSession:
		return nil, nil
	}
	r := &record{s: &d}
	if aErr == nil && a.Kind == kindActivity && a.SID == id {
		r.a = &a
	}
	return r, nil
}

// Create assigns s.ID and stores s. Without a cap it is one insert. With
// max > 0 it takes the subject's turn (see lock.go), deletes the
// subject's other sessions beyond the newest max-1 live ones, inserts the
// session and ends the turn.
func (s *Store) Create(ctx context.Context, x *store.Session, max int) error {
	const op = "create"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if err := checkSession(x); err != nil {
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
		s.writes.Add(1)
		_, err = s.c.InsertOne(ctx, d)
		if mongo.IsDuplicateKeyError(err) && ctx.Err() == nil {
			continue // 128 random bits collided: draw again
		}
		return wrap(ctx, "create", err)
	}
}

// evict deletes the sessions of x's subject that are dead at x.CreatedAt
// and the live ones beyond the newest max-1.
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
	s.writes.Add(1)
	_, err = s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: x.Subject}, {Key: "sid", Value: bson.D{{Key: "$in", Value: gone}}}})
	return wrap(ctx, "create", err)
}

// subjectDocs returns the session and activity documents of subject.
func (s *Store) subjectDocs(ctx context.Context, op, subject string) ([]doc, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: bson.D{{Key: "$ne", Value: kindClaim}}}})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(ctx, op, err)
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

// Get returns the live session with id: one query.
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	r, err := s.read(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if r == nil || !r.live(nowDate(now)) {
		return nil, store.ErrNotFound
	}
	return r.session()
}

// Touch reads the session and, when its last recorded use is at least
// every old, records the use in the session's activity document, which
// nothing but Touch writes: see the package doc.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	if err := checkTime("now", now); err != nil {
		return err
	}
	r, err := s.read(ctx, op, id)
	if err != nil {
		return err
	}
	at := nowDate(now)
	if r == nil || !r.live(at) {
		return store.ErrNotFound
	}
	last, _ := r.lastUse()
	if at < last || now.Sub(last.Time()) < every {
		return nil
	}
	until := date(now.Add(idle))
	if until > r.s.Expires || now.Add(idle).After(maxTime) {
		until = r.s.Expires
	}
	// On MongoDB the filter on lu makes the write conditional on the
	// recorded use being older. FerretDB evaluates a filter only at its
	// read, not at its write, and serves only a filter on _id alone
	// without decoding every document of the collection, so there the
	// filter is the _id alone: the check on lu above is all it would do.
	filter := bson.D{{Key: "_id", Value: activityID(id)}}
	if s.oneQuery.Load() {
		filter = append(filter, bson.E{Key: "lu", Value: bson.D{{Key: "$lt", Value: at}}})
	}
	set := bson.D{{Key: "$set", Value: bson.D{
		{Key: "k", Value: kindActivity}, {Key: "sid", Value: id}, {Key: "sub", Value: r.s.Subject},
		{Key: "lu", Value: at}, {Key: "iu", Value: until}, {Key: "x", Value: r.s.ExpireAt},
	}}}
	s.writes.Add(1)
	_, err = s.c.UpdateOne(ctx, filter, set, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// A concurrent first Touch inserted the activity document (on
		// MongoDB: or it holds a use at or after now, and the filter did
		// not match). Ours may be the later use: update once more, without
		// upsert; on MongoDB the filter keeps the later of the two.
		s.writes.Add(1)
		_, err = s.c.UpdateOne(ctx, filter, set)
	}
	return wrap(ctx, op, err)
}

// Rotate is a compare-and-swap in two steps: claim the session's current
// generation by inserting a document whose _id names it (the server's
// unique _id index lets exactly one insert through), then update the
// session document. Once the read is done, the claim and the update run
// even if ctx is done meanwhile (for at most 2 seconds), so a canceled
// request does not leave a claimed generation unapplied. See the package
// doc for what a crash between the steps leaves.
func (s *Store) Rotate(ctx context.Context, id string, rot store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	if err := checkRotation(&rot); err != nil {
		return err
	}
	if err := checkTime("now", now); err != nil {
		return err
	}
	r, err := s.read(ctx, op, id)
	if err != nil {
		return err
	}
	if s.afterRead != nil {
		s.afterRead()
	}
	if r == nil || !r.live(nowDate(now)) {
		return store.ErrNotFound
	}
	cur := r.s
	if len(cur.RefreshHash) != len(rot.Old) || subtle.ConstantTimeCompare(cur.RefreshHash, rot.Old) != 1 {
		return store.ErrConflict
	}
	// From here on the rotation runs to its end even if ctx is done, so a
	// cancellation never strands a won claim; until here nothing is
	// written.
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
	defer cancel()
	s.writes.Add(1)
	nonce := store.NewID()
	claim := claimID(id, cur.Gen)
	_, err = s.c.InsertOne(fctx, doc{ID: claim, Kind: kindClaim, SID: id, Subject: cur.Subject, Gen: cur.Gen, Nonce: nonce, ExpireAt: cur.ExpireAt})
	if err != nil {
		// A duplicate key is another rotation's claim, or ours, inserted
		// by a retry whose first reply was lost; any other error may hide
		// a claim that landed. Read it back: a claim of ours goes on to
		// the update, so a lost reply never strands the session's refresh.
		owner, rerr := s.claimOwner(fctx, claim)
		switch {
		case rerr == nil && owner == nonce:
		case rerr == nil && owner != "":
			return store.ErrConflict // another rotation from this generation won
		case rerr == nil && mongo.IsDuplicateKeyError(err):
			return store.ErrConflict // won, then cleaned up: long moved on
		default:
			return callerErr(ctx, op, wrap(fctx, op, err))
		}
	}

	spent := [][]byte{append([]byte(nil), rot.Old...)}
	spent = append(spent, cur.Spent...)
	spent = spent[:max(0, min(len(spent), rot.KeepSpent))]
	at := nowDate(now)
	set := bson.D{
		{Key: "g", Value: cur.Gen + 1},
		{Key: "rh", Value: append([]byte(nil), rot.RefreshHash...)},
		{Key: "sh", Value: append([]byte(nil), rot.SecretHash...)},
		{Key: "sp", Value: spent},
		{Key: "ae", Value: date(rot.AccessExpiresAt)},
		{Key: "iu", Value: date(rot.IdleUntil)},
		{Key: "fu", Value: date(rot.FreshUntil)},
		{Key: "lu", Value: at},
		{Key: "ra", Value: at},
		{Key: "rn", Value: nonce},
	}
	// Our generation, or the one we made (a retry after a lost answer
	// rewrites the same values): the nonce of our claim tells the two
	// apart, so a rotation that won the claim of a generation whose first
	// claim was deleted (by clean-up, the TTL index or Sweep) never
	// overwrites the rotation that won it first.
	filter := bson.D{{Key: "_id", Value: id}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "g", Value: cur.Gen}},
		bson.D{{Key: "g", Value: cur.Gen + 1}, {Key: "rn", Value: nonce}},
	}}}
	var res *mongo.UpdateResult
	for attempt := 0; ; attempt++ {
		s.writes.Add(1)
		res, err = s.c.UpdateOne(fctx, filter, bson.D{{Key: "$set", Value: set}})
		if err == nil || attempt == 2 || fctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return callerErr(ctx, op, wrap(fctx, op, err))
	}
	if res.MatchedCount == 0 {
		// Revoked or evicted since the read (or, for a rotation that
		// read a generation long gone, moved on: see the package doc).
		err := s.notMatched(fctx, id, now)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return err
		}
		return callerErr(ctx, op, err)
	}
	if cur.Gen > 0 {
		// Claims older than the one just won can no longer decide
		// anything: every later update filters on a newer generation.
		s.writes.Add(1)
		_, err := s.c.DeleteMany(fctx, bson.D{{Key: "_id", Value: bson.D{
			{Key: "$gte", Value: claimID(id, 0)}, {Key: "$lt", Value: claimID(id, cur.Gen)},
		}}})
		s.report(wrap(fctx, "rotate: deleting old claims", err))
	}
	return nil
}

// notMatched tells why a won rotation's update matched nothing.
func (s *Store) notMatched(ctx context.Context, id string, now time.Time) error {
	r, err := s.read(ctx, "rotate", id)
	if err != nil {
		return err
	}
	if r == nil || !r.live(nowDate(now)) {
		return store.ErrNotFound
	}
	return store.ErrConflict
}

// Revoke deletes subject's session id with its activity and claims: one
// delete.
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return nil
	}
	s.writes.Add(1)
	_, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "sid", Value: id}})
	return wrap(ctx, op, err)
}

// RevokeSubject finds subject's sessions except keep, deletes their
// session documents (the count: sessions created meanwhile are neither
// deleted nor counted), then their activity and claims.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.usable(ctx, op); err != nil {
		return 0, err
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: kindSession}, {Key: "sid", Value: bson.D{{Key: "$ne", Value: keep}}}},
		options.Find().SetProjection(bson.D{{Key: "sid", Value: 1}}))
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, wrap(ctx, op, err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.SID)
	}
	in := bson.D{{Key: "$in", Value: ids}}
	s.writes.Add(1)
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "k", Value: kindSession}, {Key: "sid", Value: in}})
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	s.writes.Add(1)
	if _, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: subject}, {Key: "sid", Value: in}}); err != nil {
		// The sessions are gone; what is left is unreachable and expires.
		return int(res.DeletedCount), wrap(ctx, op, err)
	}
	return int(res.DeletedCount), nil
}

// List returns subject's live sessions at now, newest first, ties by ID
// ascending: one query, sorted here, byte-wise, whatever the server's
// collation.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.usable(ctx, op); err != nil {
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

var errNoTTL = errors.New("mongostore: the server refused the TTL index on x (expireAfterSeconds): expired documents are deleted only by Sweep; turn the sweeper on with WithSweepInterval")
