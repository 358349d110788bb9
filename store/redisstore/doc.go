// Package redisstore is a store.Store in Redis, through
// github.com/redis/go-redis/v9: one server, a Sentinel-managed
// primary, or Redis Cluster, with the same Store and the same guarantees.
//
// # Use
//
// An application that owns a client calls New with it:
//
//	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	s, err := redisstore.New(c, redisstore.WithRoutingKey(secret)) // 32 random bytes
//	…
//	auth, err := latch.New(ctx, cfg, latch.WithStore(s))
//
// New takes a redis.UniversalClient: a *redis.Client, a
// *redis.ClusterClient, a failover (Sentinel) client. It makes no call and
// starts no goroutine, and the Store never closes the client. With
// ContextTimeoutEnabled a done context also interrupts a call waiting on
// the network; without it such a call returns after the client's read or
// write timeout. Importing the package also registers the redis, rediss,
// redis+cluster, rediss+cluster, redis+sentinel and rediss+sentinel URL
// schemes with store.Open (LATCH_STORE=redis://host:6379/0, say): see
// Open. A Store opened by URL owns, and closes, its client. The errors of
// best-effort steps that no caller waits for go to WithErrorHook.
//
// After Close every method fails with ErrClosed, an outage that is neither
// store.ErrNotFound nor store.ErrConflict.
//
// The server must be Redis 6.2 or later (SET … PXAT), or a server that
// speaks its commands and its Lua scripting. The tests run Redis 7.0.
//
// # Keys and hash slots
//
// Every key starts with the key prefix ("latch:", see WithKeyPrefix),
// then a routing tag, or a throttle bucket's key, in braces:
//
//	<prefix>{<tag>}:s:<id>        one session: a string (see below)
//	<prefix>{<tag>}:u:<digest>    the subject's index: a sorted set of its
//	                              session ids, each scored with its
//	                              session's ExpiresAt (Unix ms)
//	<prefix>{<key>}:t             one throttle bucket (store.Throttle): a
//	                              string of 24 bytes, Count, Last and the
//	                              record's expiry (Unix ms)
//
// Redis Cluster hashes only what stands between the first braces, so both
// keys of a subject land in one hash slot. The digest is HMAC-SHA256 of
// the subject under the routing key that gave the tag (each previous
// routing key names its own index), in base64url (43 characters): it
// bounds the key's length whatever the subject (up to 1,024 bytes), and
// keeps subjects, often e-mail addresses, out of the key space (SCAN,
// --bigkeys, key names in logs); under a secret routing key, guessing
// e-mail addresses does not reverse it. The subject still travels as a
// script argument (Revoke's, and inside the session Create writes), so
// SLOWLOG and MONITOR can show it, and whoever can read the values reads
// it. Nothing in a subject can move the slot: the digest comes after the
// tag, and the prefix holds no brace.
//
// The tag is the first 3 characters of each session id (base62, 238,328
// values against Redis Cluster's 16,384 slots): HMAC-SHA256 of the subject
// under the routing key, reduced to 3 characters. A lookup by id finds
// its slot from the id alone; a lookup by subject computes the tag. The
// other 19 characters of an id come from crypto/rand: about 113 bits, so
// ids stay unguessable and unique (Create also refuses to overwrite a key,
// and draws again, should one ever repeat).
//
// A throttle bucket's key (printable ASCII, at most store.MaxStrikeKeyLen
// characters; others are ErrInvalid before any command) stands in the
// braces, so buckets spread over the slots; every throttle command names
// one key, and a key's braces or a '}' in it only move its own slot. Its
// "}:t" ends no session key or index, so no bucket key names either.
//
// # The routing key
//
// Without WithRoutingKey the Store uses DefaultRoutingKey, which is public.
// The default needs no configuration and no round trip and is the same in
// every process, so processes sharing a Redis agree on every tag. Its cost
// is privacy, not security: anyone holding a session id can test a guessed
// subject against its tag (a wrong guess matches one time in 238,328),
// and can tell that two ids most likely share a subject. Ids stay
// unguessable either way. A secret routing key of 32 random bytes hides
// both; set it in production (latch_routing_key in a URL).
//
// A change of routing key moves each subject's tag, so sessions created
// under a key a process does not know are out of reach of its
// RevokeSubject and List. A mismatch between running processes is
// detected only when a process that lacks the key reads such a session:
// its Get checks that the id's tag is what one of its keys gives the
// session's subject, and otherwise fails with ErrRoutingKey, an outage,
// rather than serve it. Nothing detects it anywhere else: while process A
// runs with key K1 and process B with K2, a RevokeSubject or List on A
// silently misses the sessions B created under K2 (and the reverse), and
// a capped login on A does not count them. WithRoutingKey takes previous
// keys that RevokeSubject and List also search, and documents a rollout in
// which no two running processes disagree. A random key stored in Redis
// itself would be secret by default, but it would be one key without a
// TTL that eviction, a FLUSHALL or a failover before replication could
// replace, splitting the sessions of a subject between two keys; a key in
// the configuration cannot change without a deploy.
//
// # Sessions
//
// A session is one Redis string in a compact binary layout (encode.go): a
// version byte, the seven times as 8-byte Unix milliseconds (the zero
// time as its own, -62135596800000, so that the Unix epoch and the zero
// time both read back as they were), then the subject, the device fields
// and the claims (as JSON), then the hashes as raw bytes, spent ones
// newest first. One string rather than a hash keeps a session in one
// allocation whatever the server's listpack limits
// (hash-max-listpack-value is 64 bytes by default, and a real user agent
// is longer), and lets Touch rewrite 16 bytes in place. A session with an
// IdleTimeout or an Actor is written in format version 2, which holds them
// at the start of the device section; any other is written in version 1,
// as before, so that an earlier release still reads it during a rolling
// upgrade (it refuses version 2 as corrupt), and sessions stored by an
// earlier release read with IdleTimeout 0 and no Actor. Get is one GET;
// the caller's now decides liveness. Values beyond the limits of package
// store, and times beyond 2^53 Unix milliseconds (Lua's numbers are
// doubles), are ErrInvalid before any call.
//
// # Every key a script touches is declared
//
// Each atomic step is one Lua script, and every key it reads or writes is
// in its KEYS; none is built inside a script. This is what keeps Redis
// Cluster's resharding safe. While a slot migrates key by key, Redis
// checks a command's declared keys: the source node serves it only if it
// holds them all, answers ASK when it holds none and TRYAGAIN when it
// holds some; the target, after ASKING, serves a multi-key command only if
// it holds them all, else TRYAGAIN. go-redis follows ASK and retries
// TRYAGAIN only within MaxRetries (3 by default, a few milliseconds
// apart), then returns the error. A key a script built itself escaped
// that check: on the target, a session key that had not migrated yet read
// as absent, so "delete every member's session" deleted nothing and
// emptied the index, leaving live sessions that no RevokeSubject or List
// would find again. With every key declared, a step whose keys are not all
// on one node fails with TRYAGAIN, an outage (a 503), and never gives a
// wrong answer (never store.ErrNotFound or store.ErrConflict, nothing half
// written).
//
// A key that no node holds counts as not on one node, for as long as its
// slot migrates (from the first SETSLOT to the hand-over), so:
//
//   - every Create, capped or not, of every subject whose slot is
//     migrating fails for the whole migration: it names the new session's
//     key, which does not exist yet;
//   - Revoke of a live session fails while the session and the subject's
//     index are on different nodes. Revoke of an id that no longer exists
//     would fail for the whole migration: on TRYAGAIN it reads the session
//     alone (a GET, which Redis serves wherever the key is) and succeeds
//     when it is absent or another subject's;
//   - List and RevokeSubject fail while the subject's index and live
//     sessions are on different nodes. A member whose session key is gone
//     (idled out) would make them fail for the whole migration: on
//     TRYAGAIN they check each declared session key alone (EXISTS, a round
//     trip per member), remove the members whose keys are gone (ZREM) and
//     try again, so they succeed whenever the live keys are together,
//     after every key has moved too (the ASK phase);
//   - Get, Touch, Freshen and Rotate use one key each and work
//     throughout.
//
// Reshard off-peak and a few slots at a time, so that each slot migrates
// briefly: its subjects cannot log in until it is handed over. The tests
// reshard a private cluster phase by phase and check every operation's
// exact outcome in each.
//
// Declaring the members' keys needs the members first, so the
// subject-wide steps read the index (ZRANGE) and then run the script with
// the session keys it returned. A script that must see every member (a
// capped Create, RevokeSubject) checks that the index holds none it was
// not given, which a login in between would add, and otherwise the caller
// reads again after a jittered pause that grows from 1 ms to 16 ms, for up
// to a second and never past its context; then an outage, never a cap
// silently exceeded. Touch and Rotate know a session's id but
// not its subject, so they declare the session key alone, and must not
// write the index at all.
//
// # Expiry, and an index without dangling entries
//
// No key lives without a TTL, and none is ever found by SCAN or KEYS.
//
//   - A session key expires at its deadline, min(IdleUntil, ExpiresAt):
//     set by Create (SET … PXAT), moved by Touch and Rotate.
//   - Its member in the subject's index is scored with the session's
//     ExpiresAt, fixed at Create and never moved, so never before the
//     key's deadline. A score below it would be wrong in the dangerous
//     direction: pruning by score would drop a live session from the
//     index. A score at or above it makes pruning by score safe.
//   - The index expires at its highest score (PEXPIREAT after every change
//     to its members): once the last of its sessions has passed its
//     absolute expiry.
//
// Members are removed in two ways. Every script that writes an index
// (Create, Revoke, RevokeSubject, List) first removes the members scored
// before Redis' clock (ZREMRANGEBYSCORE): their sessions are past
// ExpiresAt, so Redis has expired their keys. And a script that declares a
// member's session key and finds it missing (a capped Create, List,
// RevokeSubject) removes the member: a declared key that is missing
// really is, whatever the reason (idled out, revoked, deleted by hand).
// Only declared keys are ever judged missing. So:
//
//   - a session that reaches its absolute expiry leaves its index at the
//     next write of the index, or with the index itself;
//   - a session that idles out leaves its index at the next capped login,
//     List or RevokeSubject of its subject, and otherwise at its ExpiresAt:
//     until then its member costs a few dozen bytes;
//   - members are never returned for themselves: List reads each session.
//
// Redis' clock only cleans up. Liveness is always judged with the
// caller's now: a session dead at now is store.ErrNotFound even while its
// key lives on. A Redis server whose clock runs ahead of the
// applications' ends sessions that much early; keep clocks in sync.
//
// # Atomic steps and round trips
//
// Counted on a warm script cache, as go-redis' hooks see them: a MOVED or
// ASK redirection, or a TRYAGAIN retry, that go-redis follows below its
// hooks is not counted; docs/stores.md gives the table.
//
//   - Create without a cap is one script (1 round trip). With max > 0 it is
//     two: a ZRANGE of the members scored after CreatedAt (the others are
//     dead at CreatedAt), then one script that declares their session
//     keys, reads each one's CreatedAt, IdleUntil and ExpiresAt, orders
//     those live at CreatedAt as List does (CreatedAt descending, then id
//     ascending, byte by byte) and deletes those beyond the newest max-1,
//     and those dead at CreatedAt (as memstore does), then writes the
//     session and its member. Redis runs one script at a
//     time, so concurrent logins never leave more than max under one
//     routing key.
//   - Get is one GET.
//   - Touch is one script on the session key: it reads the session and,
//     when it is live and its LastUsedAt at least every old, rewrites
//     LastUsedAt and IdleUntil alone (SETRANGE) and the key's expiry,
//     sliding by the session's own IdleTimeout when that is positive and
//     shorter. A throttled touch writes nothing; a session revoked
//     meanwhile is gone and stays gone.
//   - Freshen is one script on the session key: when the session is live
//     it rewrites FreshUntil alone (SETRANGE, 8 bytes), so it never
//     restores an old hash nor brings back a revoked session.
//   - Rotate is one script on the session key: a compare-and-swap of the
//     refresh hash, which prepends the old one to the spent hashes (at
//     most KeepSpent) and rewrites only the times and the hashes.
//   - Revoke is one script on the session key and the index its id's tag
//     names, which deletes the session if it belongs to the subject.
//   - RevokeSubject and List are, per routing key, a ZRANGE and one script
//     over the members' session keys: 2 round trips, plus 1 per previous
//     routing key (2 when that key's index has members). List returns the
//     sessions live at one instant, the script's, for each routing key;
//     with previous keys the views are of successive instants. Both walk
//     the subject's whole index: their cost grows with the subject's
//     sessions, which a cap on Create bounds.
//
// A call that fails with TRYAGAIN during a slot migration makes more
// round trips: Revoke one GET; List and RevokeSubject one EXISTS per
// member, one ZREM per member gone, then the usual two again.
//
// Scripts run with EVALSHA; after a SCRIPT FLUSH or a failover to a server
// that never saw them, Redis answers NOSCRIPT and the script is sent again
// with EVAL (one more round trip, once per script and server). The tests
// run every script on a three-master cluster.
//
// go-redis also sends a command again when its connection fails after the
// write (MaxRetries, 3 by default), so a script may run twice after its
// first run succeeded and the reply was lost. That is safe for every
// script here. Create chooses the id itself: a rerun that finds the key
// holding exactly the value it writes reports success, and writes and
// evicts nothing again. Rotate's rerun finds its own new refresh and
// access hashes stored (the refresh hash is random, so no other rotation
// stored it) and reports success without spending the old hash twice.
// Touch, Freshen and Revoke write the same state again, and List only
// prunes. A
// rerun of a RevokeSubject round finds its sessions already gone and
// counts fewer: after a lost reply, RevokeSubject's count may fall short
// of the sessions it deleted (they are deleted all the same; store.Store's
// count is approximate in the other direction too). One window stays: a RevokeSubject that deletes a new
// session between a Create's first run and its rerun is undone for that
// session, as if the login had come after it (its id had not been
// returned yet).
//
// # Throttle
//
// The Store implements store.Throttle. AddStrike is one script on the
// bucket's key (1 round trip): absent, or expired at the caller's now,
// the record restarts at Count 1, else it grows by one; Last becomes the
// later of Last and now, and the record expires at Last+ttl (ttl rounded
// up to the millisecond). Strikes pipelines one GET per key and
// ClearStrikes one DEL per key: one round trip, to each server concerned
// on Redis Cluster, whose keys may be in as many slots as there are keys.
// The caller's now alone decides whether a record has expired; the key's
// TTL (PX, counted on the server's clock) only frees its memory, a minute
// after the record's expiry, so that a server clock a little out of step
// never forgives failures early and every bucket's memory ends with its
// record. A rerun of AddStrike by go-redis after a lost reply counts the
// failure twice: an error in the safe direction for a throttle.
//
// # Server settings
//
// Keep reads on the primary: a client that sends GET to replicas
// (ClusterOptions.ReadOnly, RouteByLatency, RouteRandomly, a failover
// client's ReplicaOnly) may still find a session that was just revoked.
//
// maxmemory-policy must be noeviction. Every key of this package has a
// TTL, including the subjects' indexes, so every eviction policy may pick
// them: under allkeys-* and volatile-* alike, Redis can evict a subject's
// index while its sessions live on, and then RevokeSubject ("log out
// everywhere") misses those sessions without an error, List no longer
// shows them, and a capped login no longer counts them; it can also evict
// live sessions, logging their users out without a word. Under noeviction
// a full Redis refuses, with an OOM error, a script whose first write
// would add data: Create (SET, ZADD), Touch (SETRANGE) and Rotate (SET)
// fail as an outage (a 503) until memory is freed. A validation touches
// its session once per TouchInterval, so the requests whose touch falls
// due fail too; only those whose touch is throttled (a plain GET) go on
// working, and so do Revoke, RevokeSubject and List, which only delete.
// Size maxmemory from the figures in docs/stores.md and alert on
// used_memory.
//
// Without persistence (RDB snapshots or, better, AOF with appendfsync
// everysec) a restart loses every session: everyone is logged out. A
// replica promoted by Sentinel or Cluster failover may lack the last
// writes before the failover (replication is asynchronous): a just-revoked
// session can come back, a just-rotated refresh token can be replaced by
// its predecessor. WAIT would narrow that window at the cost of a round
// trip per write; this package does not use it.
package redisstore
