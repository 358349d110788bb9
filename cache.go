package latch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch/store"
)

// Bounds of Config.SessionCache.
const (
	minSessionCache = time.Second
	maxSessionCache = 10 * time.Minute
)

// maxCachedSessions bounds the sessions one cache holds; past it, filling
// one more drops another.
const maxCachedSessions = 100_000

// maxTombstones bounds the tombstones kept while fills are in flight
// (see dropSession); past it, every fill in flight is dropped instead.
const maxTombstones = maxCachedSessions / 10

// sessionCache keeps, in this process, the sessions access tokens were
// checked against, and drops each as soon as the store reports a change
// to it (store.Watcher). Only what the store reports can make an entry
// stale, so the cache answers only while it can prove that reports
// arrive: it sends a heartbeat through the store every third of its
// trust period, and serves entries only while the latest of its own beats
// to come back was sent within the period. When the subscription breaks
// it empties itself; until it trusts itself again every check reads the
// store, as without a cache.
//
// An entry is filled only from a read that began after the subscription
// stood and that no report for its session overtook (see begin and fill),
// so a read racing a revocation can never put the revoked session back.
// And none is served longer than the trust period after its read began:
// a report lost where no heartbeat can notice it (a store that reports
// after the change, and crashed in between) goes stale for that long at
// most.
// A cached *store.Session is never modified: it is shared by every
// request that reads it.
type sessionCache struct {
	w     store.Watcher
	trust time.Duration // Config.SessionCache
	log   *slog.Logger

	// instance names this cache's beats; start is the origin of the times
	// they carry, read on the monotonic clock.
	instance string
	start    time.Time
	// trusted is how long after start entries may be served: the send
	// time of the latest own beat that came back, plus trust.
	trusted atomic.Int64
	beatNow chan struct{} // asks the beat loop for a beat at once

	mu        sync.RWMutex
	entries   map[string]cacheEntry
	bySubject map[string]map[string]struct{}
	// seq counts the reports and resets so far; a fill that began at a
	// seq below floor is dropped.
	seq, floor   uint64
	subscribed   bool
	inflight     int      // fills begun and not ended
	tombstones   []string // ids whose entry is a tombstone
	stop         context.CancelFunc
	loopsStopped sync.WaitGroup
}

// cacheEntry is a cached session, or a tombstone: a report about a
// session while fills were in flight. Its seq is the report's, or the seq
// at which the fill that stored the session began: a fill that began
// before it must not overwrite it, since it may have read the session as
// it was before a report.
type cacheEntry struct {
	s   *store.Session // nil: a tombstone
	seq uint64
	// read is when the read that filled it began (sinceStart).
	read int64
}

// newSessionCache starts a cache over w: its subscription and heartbeat
// run until close.
func newSessionCache(w store.Watcher, trust time.Duration, log *slog.Logger) *sessionCache {
	var b [8]byte
	rand.Read(b[:])
	c := &sessionCache{
		w: w, trust: trust, log: log,
		instance:  hex.EncodeToString(b[:]),
		start:     time.Now(),
		beatNow:   make(chan struct{}, 1),
		entries:   map[string]cacheEntry{},
		bySubject: map[string]map[string]struct{}{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	c.loopsStopped.Add(2)
	go c.watch(ctx)
	go c.beat(ctx)
	return c
}

// closeWait bounds how long close waits for the subscription and the
// heartbeat to end: a store that is not store.Bounded may hold a call
// past its context (lib/pq reading a silent server), and shutting down
// must not wait on it. Such a loop ends when its call returns.
const closeWait = 5 * time.Second

// close stops the subscription and the heartbeat and empties the cache.
func (c *sessionCache) close() {
	c.stop()
	stopped := make(chan struct{})
	go func() { c.loopsStopped.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(closeWait):
		if c.log != nil {
			c.log.Warn("latch: session cache: the store's change reports did not stop within " + closeWait.String() + "; closing without them")
		}
	}
	c.reset(false)
}

// sinceStart returns the monotonic time since c.start.
func (c *sessionCache) sinceStart() int64 { return int64(time.Since(c.start)) }

// get returns the cached session with id if the cache trusts itself and
// the session is live at now; nil otherwise (read the store).
func (c *sessionCache) get(id string, now time.Time) *store.Session {
	since := c.sinceStart()
	if since >= c.trusted.Load() {
		return nil
	}
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e.s == nil || since-e.read >= int64(c.trust) || !e.s.Live(now) {
		return nil
	}
	return e.s
}

// ticket is a fill in flight: the seq and the time at its start.
type ticket struct {
	seq  uint64
	read int64
	ok   bool // the fill may store its result
}

// begin starts a fill, before the store is read.
func (c *sessionCache) begin() ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subscribed {
		return ticket{}
	}
	c.inflight++
	return ticket{seq: c.seq, read: c.sinceStart(), ok: true}
}

// fill ends the fill t with what the read of id found: s, or nil when it
// found nothing or failed. s is stored only if no report about it
// arrived since t began.
func (c *sessionCache) fill(t ticket, id string, s *store.Session) {
	if !t.ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	e, had := c.entries[id]
	switch {
	case t.seq < c.floor, had && e.seq > t.seq:
		// overtaken by a reset, by a report about this session, or by a
		// fill that began later
	case s == nil:
		if e.s != nil {
			c.remove(id, e.s.Subject)
		}
	default:
		if e.s != nil {
			c.remove(id, e.s.Subject)
		}
		c.add(s, t)
	}
	if c.inflight == 0 {
		c.clearTombstones()
	}
}

// add stores s, read by the fill t, dropping another entry when the
// cache is full. c.mu is held.
func (c *sessionCache) add(s *store.Session, t ticket) {
	if len(c.entries) >= maxCachedSessions {
		for id, e := range c.entries {
			if e.s != nil {
				c.remove(id, e.s.Subject)
				break
			}
		}
	}
	c.entries[s.ID] = cacheEntry{s: s, seq: t.seq, read: t.read}
	ids := c.bySubject[s.Subject]
	if ids == nil {
		ids = map[string]struct{}{}
		c.bySubject[s.Subject] = ids
	}
	ids[s.ID] = struct{}{}
}

// remove drops the entry of id, whose session is subject's. c.mu is held.
func (c *sessionCache) remove(id, subject string) {
	delete(c.entries, id)
	if ids := c.bySubject[subject]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(c.bySubject, subject)
		}
	}
}

// clearTombstones drops every tombstone: no fill is in flight to need
// them. c.mu is held.
func (c *sessionCache) clearTombstones() {
	for _, id := range c.tombstones {
		if e, ok := c.entries[id]; ok && e.s == nil {
			delete(c.entries, id)
		}
	}
	c.tombstones = c.tombstones[:0]
}

// dropSession drops the session id: the store reported a change to it, or
// this process made one.
func (c *sessionCache) dropSession(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	if e := c.entries[id]; e.s != nil {
		c.remove(id, e.s.Subject)
	}
	if c.inflight == 0 {
		return
	}
	if len(c.tombstones) >= maxTombstones {
		// Drop every fill in flight rather than remember more.
		c.floor = c.seq
		c.clearTombstones()
		return
	}
	if _, ok := c.entries[id]; !ok {
		c.tombstones = append(c.tombstones, id)
	}
	c.entries[id] = cacheEntry{seq: c.seq}
}

// dropSubject drops every session of subject. A fill in flight may be of
// one of them, whose subject is not known yet: every fill in flight is
// dropped too.
func (c *sessionCache) dropSubject(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.floor = c.seq
	for id := range c.bySubject[subject] {
		delete(c.entries, id)
	}
	delete(c.bySubject, subject)
}

// touched records in the entry of id a use that Store.Touch recorded at
// now, as the store did (see store.Store.Touch), so that this process
// does not touch the session again before the interval.
func (c *sessionCache) touched(id string, now time.Time, idle time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e.s == nil {
		return
	}
	n := *e.s
	if n.IdleTimeout > 0 {
		idle = min(idle, n.IdleTimeout)
	}
	n.LastUsedAt = now
	n.IdleUntil = now.Add(idle)
	if n.IdleUntil.After(n.ExpiresAt) {
		n.IdleUntil = n.ExpiresAt
	}
	c.entries[id] = cacheEntry{s: &n, seq: e.seq, read: e.read}
}

// reset empties the cache and stops trusting it; subscribed says whether
// a subscription now stands (reports from now on arrive).
func (c *sessionCache) reset(subscribed bool) {
	c.trusted.Store(0)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.floor = c.seq
	c.subscribed = subscribed
	clear(c.entries)
	clear(c.bySubject)
	c.tombstones = c.tombstones[:0]
}

// report handles one report of the store.
func (c *sessionCache) report(ch store.Change) {
	switch ch.Kind {
	case store.ChangeReady:
		c.reset(true)
		select {
		case c.beatNow <- struct{}{}:
		default:
		}
	case store.ChangeSession:
		c.dropSession(ch.ID)
	case store.ChangeSubject:
		c.dropSubject(ch.ID)
	case store.ChangeBeat:
		c.beatBack(ch.ID)
	default:
		// A report the cache cannot read may be about anything.
		c.reset(true)
	}
}

// beatBack trusts the cache for c.trust from when the beat id was sent,
// if it is one of this cache's own.
func (c *sessionCache) beatBack(id string) {
	rest, ok := strings.CutPrefix(id, c.instance+".")
	if !ok {
		return
	}
	sent, err := strconv.ParseInt(rest, 36, 64)
	if err != nil || sent > c.sinceStart() {
		return
	}
	until := sent + int64(c.trust)
	for {
		old := c.trusted.Load()
		if until <= old || c.trusted.CompareAndSwap(old, until) {
			return
		}
	}
}

// watch keeps the subscription standing until ctx is done, subscribing
// again, after a pause, whenever it breaks.
func (c *sessionCache) watch(ctx context.Context) {
	defer c.loopsStopped.Done()
	pause := 50 * time.Millisecond
	for {
		began := time.Now()
		err := c.w.Watch(ctx, c.report)
		c.reset(false)
		if ctx.Err() != nil {
			return
		}
		if c.log != nil {
			c.log.Warn("latch: session cache: the store's change reports broke; checks read the store until they resume",
				"err", err)
		}
		if time.Since(began) > time.Minute {
			pause = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// beat sends a heartbeat every third of the trust period, and at once
// when a subscription starts.
func (c *sessionCache) beat(ctx context.Context) {
	defer c.loopsStopped.Done()
	t := time.NewTicker(c.trust / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.beatNow:
		}
		id := c.instance + "." + strconv.FormatInt(c.sinceStart(), 36)
		bctx, cancel := context.WithTimeout(ctx, c.trust/3)
		err := c.w.Beat(bctx, id)
		cancel()
		if err != nil && ctx.Err() == nil && c.log != nil {
			c.log.Warn("latch: session cache: heartbeat not sent", "err", err)
		}
	}
}

// cloneActor copies a, which may be nil.
func cloneActor(a *Actor) *Actor {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}
