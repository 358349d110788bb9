// Package mongostore is a store.Store in MongoDB, through the official
// driver (go.mongodb.org/mongo-driver/v2). It is written for MongoDB 5.0
// and later, and also runs on FerretDB, a server speaking MongoDB's wire
// protocol; CI tests it on FerretDB v1.24.2 (SQLite backend). The tests
// can also start a mongo:7 container, but only where a Docker engine is
// available, which CI does not have: the MongoDB path is not tested
// there. (FerretDB v1.24.2's SQLite backend serves no query from an
// index, not even a lookup of one _id: every operation scans the
// collection, so its cost grows with the collection. See "FerretDB"
// below.)
//
// # Use
//
// An application that owns a *mongo.Client calls New with a database,
// then Migrate once at start-up:
//
//	s, err := mongostore.New(client.Database("app"), mongostore.WithErrorHook(report))
//	…
//	defer s.Close() // stops the sweeper, if any; the client stays connected
//	err = s.Migrate(ctx)
//
// New does no I/O and the Store never disconnects the client. Importing
// the package also registers the mongodb and mongodb+srv URL schemes
// with store.Open (LATCH_STORE=mongodb://host:27017/app, say): see Open.
// A store opened by URL runs Migrate on open and owns, and disconnects, its
// client. After Close every method fails with ErrClosed, an outage that is
// neither store.ErrNotFound nor store.ErrConflict.
//
// # Documents
//
// The collection <prefix>sessions (prefix "latch_" unless
// WithCollectionPrefix says otherwise) holds six kinds of document,
// told apart by k; every kind carries x (a BSON date: when the document
// may be deleted, for sessions their absolute expiry), and the first four
// carry sid (the session id) and sub (its subject):
//
//   - the session, _id = the session id: device fields, hashes (BSON
//     binary), spent hashes (an array of binary, newest first), claims
//     (JSON text, so they come back exactly as encoding/json decodes them,
//     numbers as float64, whatever BSON would have made of them), g (the
//     number of rotations so far), times as BSON dates (milliseconds),
//     it (IdleTimeout in nanoseconds) and ac (the Actor, its fields
//     encoded as device fields are); it and ac are absent when zero and
//     nil, so documents written before them read as IdleTimeout 0, Actor
//     nil;
//   - the activity, _id = id + "/a": the last use Touch recorded and the
//     idle expiry that came with it;
//   - the fresh document, _id = id + "/f": the FreshUntil Freshen
//     recorded and the generation g it read;
//   - a claim, _id = id + "/r/" + the generation number, zero-padded: the
//     mark of a won rotation;
//   - a turn, _id = "l/" + hex SHA-256 of the subject + "/" + a number, and
//     its end, the same _id + "/d/" + the owner's nonce: capped logins of
//     one subject take turns (see below). A turn records its owner's
//     nonce (o) and when it was taken (t). Turn documents are encoded
//     without sub and sid, so nothing that queries or deletes by subject
//     (RevokeSubject of any subject, "" included) sees them; x is a day
//     after the login.
//
// The collection <prefix>strikes holds the strike records of
// store.Throttle: see "Strike records" below; <prefix>changes holds the
// change log of store.Watcher: see "Change reports" below.
//
// Subjects and device fields are BSON strings, compared byte for byte
// (a device field that is not valid UTF-8 is kept as binary instead, so it
// comes back as sent). List sorts in Go, by CreatedAt descending then ID
// byte-wise, so no collation is involved. Values beyond package store's
// limits are refused with ErrInvalid before any I/O.
//
// # Indexes
//
// Migrate refuses a collection with a default collation other than simple
// (subjects and ids are compared byte for byte), then creates an index on
// sub, one on t in <prefix>changes and, where the server has them, a TTL
// index on x (expireAfterSeconds 0) in the three collections, which
// deletes documents once their session (or strike record, or report) has
// expired; it creates <prefix>strikes and <prefix>changes first. Nothing
// relies on the TTL index: liveness is
// decided at read time with the caller's now. FerretDB answers
// NotImplemented to it; Migrate then reports this once through the error
// hook and succeeds, and the sweeper (WithSweepInterval, off by default
// because MongoDB's TTL monitor does the same work) or calls of Sweep
// clean up instead. No partial index, no unique index but _id's, no
// multi-document transaction, no $push with $slice, no findAndModify.
//
// # Atomic steps
//
// The only operations this package treats as atomic are those atomic on
// both MongoDB and FerretDB: inserting a document (the unique index on
// _id lets exactly one of concurrent inserts of one _id through; the
// others get duplicate-key error 11000), deleting documents, and each
// single document write landing whole. FerretDB (v1.24.2, SQLite)
// implements update and findAndModify as a read, a change made in Go, and
// a write of the whole document by _id (internal/handler/common/update.go,
// internal/backends/sqlite/collection.go UpdateAll): a filter does not
// hold at the write, of 64 concurrent conditional updates several can
// win, and a write made from a stale read puts back fields another writer
// changed meanwhile. Its UPDATE by _id does not recreate a deleted
// document, though, and its DELETE reports the rows it really deleted. So:
//
//   - Get is one query for the session and its activity on MongoDB (_id
//     $in both); on FerretDB (Migrate asks buildInfo) it is two finds by
//     exact _id, run concurrently, since FerretDB decodes and filters the
//     whole collection in Go for an $in, but hands an exact _id to SQLite.
//   - Rotate reads the session; if it is live and its refresh hash is
//     Old, it inserts the claim of the session's generation g (the
//     compare-and-swap: one insert wins, the others are
//     store.ErrConflict), then updates the session (new hashes, spent
//     list, g+1) with a filter on g, and deletes claims older than g.
//     Only the winner of the claim on g ever writes generation g+1, so
//     the update has no concurrent writer but a deletion, which it cannot
//     undo. Once the read is done, the claim and the update run even if
//     ctx is done (for at most 2 seconds, the update retried twice): a
//     canceled request leaves no half-done rotation behind; an error
//     returned after ctx is done wraps ctx.Err(). On MongoDB the filter
//     on g makes the update a compare-and-swap of its own as well.
//   - Touch reads the session and, if the last recorded use is at least
//     every old, upserts the activity document, which only Touch writes;
//     Rotate records its use in the session document. The later of the
//     two uses counts. So a touch can never write back a hash a rotation
//     replaced, and after a revocation it can at worst leave an activity
//     document without a session, which reads as nothing. On MongoDB the
//     upsert filters on lu < now, so the recorded use (and IdleUntil with
//     it) never moves back; the loser of two first touches, whose upsert
//     hits a duplicate key, retries once as a plain conditional update.
//     On FerretDB the filter is the _id alone (see above): of two
//     concurrent touches the one written last wins even if its now is the
//     earlier, so LastUsedAt and IdleUntil can move back by the distance
//     between two concurrent requests' clocks (milliseconds, as the core
//     touches at most once per TouchInterval). Nothing but idle expiry
//     depends on them. IdleUntil slides by the session's IdleTimeout
//     instead of Touch's idle when that is positive and shorter.
//   - Freshen reads the session and, if it is live, upserts the fresh
//     document with until and the generation g it read, as Touch upserts
//     the activity (on MongoDB filtering on g <= the one read). The
//     session's FreshUntil is the fresh document's while the session is
//     still at that generation, else the session document's: a later
//     rotation replaces it, a Freshen from a generation rotated away
//     counts for nothing, and Freshen never writes the session document,
//     so it never restores a hash. On FerretDB, of two racing Freshens
//     the write landing last wins, as with Touch.
//   - Create without a cap is one insert. Capped logins of one subject
//     take turns (lock.go): a login reads the subject's turn documents
//     (one query on a range of _id) and, once the newest turn has ended
//     (or there is none, or its lease has passed), inserts the next turn's
//     document, which exactly one of the logins waiting on that turn
//     manages; it then checks that no later turn exists (a login that read
//     long ago can re-insert a turn number whose document has since been
//     deleted, but the newest turn is never deleted, so a later one shows
//     it up). The holder reads the subject's sessions, deletes those dead
//     at CreatedAt and the live ones beyond the newest max-1, inserts its
//     session, deletes older turns and ends its turn. Readers thus see at
//     most max at any moment: the evictions come before the insert, and
//     no other capped login of the subject runs in between. (If the
//     insert fails after evictions, the evicted sessions stay evicted and
//     the login fails. An insert that failed without the server's answer
//     may still land, so the turn is then not ended but left to its
//     lease: a next login cannot read the subject before that insert
//     lands and exceed the cap.) Waiting
//     uses ctx; once the turn is taken, the login runs to its end even if
//     ctx is done, within 2 seconds of taking the turn (turnBudget) plus
//     1 second to end it (endBudget), so a canceled login never leaves
//     evictions without its session. The lease is absolute: the turn
//     document records when it was taken (by the holder's clock), and a
//     turn not ended 5 seconds (lockLease) after that may be taken by any
//     later login, whatever its own context. So a turn left open by a
//     crash, a lost reply or a failed end blocks the subject's capped
//     logins for at most 5 seconds: with the core's StoreTimeout of 2
//     seconds, the logins in that window fail and the first one after it
//     succeeds. A holder's writes are bounded to 3 seconds after it took
//     the turn; the 2 seconds of margin to the lease cover clock skew
//     between hosts and a write still in flight, so hosts' clocks must
//     agree to well within 2 seconds (NTP).
//   - Revoke is one delete of the session's documents with the subject
//     in the filter. RevokeSubject finds the ids of the subject's
//     sessions (except keep), deletes those session documents (their
//     count is the result) and then those sessions' activity and claims;
//     a session created meanwhile is neither deleted nor counted. List is
//     one query. On MongoDB a query may yield and see documents from
//     different moments, so a List racing a capped login of the same
//     subject is best-effort, not a snapshot; on FerretDB a query is one
//     SQLite statement.
//
// # Crash between steps
//
// What a process that dies between two steps leaves, and why it is safe:
//
//   - Rotate, after the claim and before the update (a lost reply to the
//     claim's insert is not such a case: the claim is read back, and a
//     claim of ours goes on to the update): generation g is
//     claimed but the session still has the old refresh hash. Every later
//     rotation from it is store.ErrConflict, which the core answers as a
//     lost refresh race; it is not in Spent, so it never counts as reuse
//     and revokes nothing. No token was issued from the lost rotation. The
//     device cannot refresh again and logs in anew; the session idles out.
//     Failing closed is the point: finishing or undoing the claim later
//     could race a rotator that is only slow and fork the session.
//   - Rotate, after the update and before deleting older claims: extra
//     claims, deleted by the next rotation, the revocation, the TTL index
//     or Sweep. A rotation that read a generation whose claim is already
//     gone (deleted by that clean-up, or by the TTL index or Sweep, in any
//     order relative to the session) can win that claim again, but its
//     update filters on that generation, or the next one made with its
//     own claim's nonce (rn), and the session is at neither: it writes
//     nothing and gets store.ErrConflict.
//   - Capped Create, holding its turn (before, between or after its
//     evictions and insert): the turn stays open. The subject's other
//     capped logins wait for it (while their contexts allow) and, once 5
//     seconds have passed since the turn was taken, the first of them
//     takes the next turn. No other subject waits. Evictions done stay
//     done; the session, if inserted, is a login whose tokens nobody
//     holds, which idles out. Never more than max.
//   - RevokeSubject after its first delete, or a Touch racing a
//     revocation: activity documents and claims without a session, which
//     no method reads as a session and which go with x (the TTL index or
//     Sweep).
//
// # FerretDB
//
// FerretDB v1.24.2's SQLite backend creates its _id index on the
// expression _ferretdb_sjson->"_id" but queries with
// _ferretdb_sjson->'$._id', so SQLite never uses it (EXPLAIN QUERY PLAN:
// SCAN): even a find, update or delete by one exact _id reads every row.
// Filters other than one exact _id are worse: every document is decoded
// and filtered in Go. The sub index is not used either. So every call
// costs time linear in the collection's size, and List, Revoke,
// RevokeSubject, Rotate's update and capped Create (about seven queries)
// cost the most. Measured on a 2-vCPU VM with
//
//	go test -run '^$' -bench 'Size|Store/mongo' -benchtime 10x ./store/mongostore
//
// (BenchmarkSize fills the collection with n other sessions first), in
// milliseconds per call:
//
//	documents   Get  Touch  Rotate  List-10  capped Create  Create+Revoke
//	~50           3      7      15        7             35              8
//	1,000        13     27     189       83            390             94
//	10,000       95    197    1821      922   3019 (3 of 10 failed)   755
//
// At 10,000 documents a capped Create exceeds its 2-second turn budget
// and the core's StoreTimeout, and Rotate comes close. Each session
// accounts for up to three documents (session, activity, latest claim)
// plus expired ones until Sweep removes them. Use FerretDB with SQLite
// for tests and small installations: keep the collection under about
// 1,000 documents (a few hundred live sessions, with the sweeper on), and
// measure before going further. MongoDB serves every query from an index.
//
// # Strike records
//
// AddStrike must count exactly across processes, which FerretDB's
// findAndModify (a read-modify-write) does not. A key's record is a chain
// of documents in <prefix>strikes written once each, one per change: _id
// = the key's length (2 digits), the key, "/" and the change's number (20
// digits); each holds the record as its change left it, with the writer's
// nonce. A change reads the key's newest document and inserts the next
// number: exactly one of the changes that read document q inserts q+1,
// and the others read again, so the changes of one key apply one after
// another (concurrent AddStrikes return 1..N, each once). ClearStrikes
// appends a cleared state the same way, so a strike that read before a
// clear cannot land after it. Documents are deleted only by Sweep and
// the TTL index, by x, which never decreases along a chain. The cost: a
// key keeps one document per strike until its record expires, and on
// FerretDB every read of a key decodes the whole collection (17 ms per
// AddStrike with a 200-document chain; see docs/stores.md).
//
// # Change reports
//
// The Store implements store.Watcher (latch's session cache needs it)
// without change streams, which need a replica set, and FerretDB has
// none: by a change log that every Watch polls. Each method that ends or
// alters a session inserts, once its change can be read, one report into
// <prefix>changes: _id a random id, t the writer's clock (a BSON date), c
// the changes in the text form of storekit.ChangeText, x when it may go
// (t plus 5 minutes). Revoke reports the session unless its delete
// certainly deleted nothing; RevokeSubject every session it found (their
// subject instead beyond 1,000); a capped Create the sessions it evicts;
// Rotate and Freshen the session. A write whose outcome is unknown (it
// failed, but may have landed) is reported all the same: a report may name
// more than changed. Each costs one insert; a failed report fails the
// method, although the change is made (Revoke, Rotate, Freshen may be
// called again; the evicting login fails, as when its insert fails). The
// report runs even if the caller's context is done, for at most half the
// watch margin.
//
// There is no sequence the server hands out, so Watch orders by time: each
// poll (every 50 ms, WithWatchInterval) asks for the reports whose t is no
// older than the previous poll's start minus the watch margin (2 s,
// WithWatchMargin) and delivers those whose _id it has not delivered, so
// none is missed or repeated as long as a report lands within half the
// margin of its t and the processes' clocks agree within the other half.
// The first poll only marks where to start: what it finds was reported
// before Watch began. A beat (Beat inserts a report too) is delivered after
// the poll that follows the one that found it: that poll began after the
// beat landed, so it finds every report that landed before.
//
// A process that dies between a change and its report loses the report:
// the other processes' caches keep the session until its entry is as old
// as the bound latch puts on every entry's age (Config.SessionCache).
// Reports are deleted by the TTL index on x,
// by Sweep, and by every Watch once a minute (FerretDB has no TTL index,
// and the sweeper is off by default); a Watch whose polls fall more than
// 2.5 minutes apart ends with an error, as the reports in between may be
// gone. On FerretDB each poll reads the whole change log (it serves no
// query from an index), a few hundred documents at most at a report a
// second.
//
// # Replica sets
//
// Use w=majority (Open sets it unless the URL sets w; New uses the
// database's write concern, which is majority by default on MongoDB 5.0
// and later) and read from the primary. A revocation or rotation
// acknowledged with w=1 can be rolled back by a failover: the revoked
// session comes back, or the rotated-away refresh token becomes current
// again while the client holds the new one, which then fails. A read from
// a secondary may return a session already revoked on the primary. With
// majority writes and primary reads, what the store acknowledged stays.
//
// # Sweeper
//
// With WithSweepInterval(d), d > 0, a goroutine calls Sweep every d with
// the time from WithClock (there is none by default), deleting documents
// (sessions, strike records and reports) whose x
// is older than now minus a grace (5 minutes by default, see
// WithSweepGrace). Its errors go to WithErrorHook, never to the standard
// logger. Close stops it and waits.
package mongostore
