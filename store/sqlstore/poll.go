package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/latchauth/latch/store"
)

// A store that cannot listen (MySQL, MariaDB, SQLite, a PostgreSQL pool
// passed to New) watches by polling the change log, <prefix>changes: a
// trigger on the sessions table inserts a row (seq, session_id,
// changed_at) for each session deleted, or whose hashes or freshness
// change, in the transaction that makes the change (migration 0003;
// 0004 on PostgreSQL).
//
// seq grows in the order rows are inserted, not committed: a transaction
// that took seq 7 may commit after one that took seq 8. A seq missing
// below the highest one read is a gap, which the poller reads again at
// every poll until its row appears or the gap is older than gapKeep (a
// rollback leaves a gap for good). So a change whose transaction commits
// more than gapKeep after it wrote its row may go unreported. A new Watch
// starts from the newest row older than gapKeep, which the sweeper never
// deletes, so that the transactions running when it starts are gaps too.

// Bounds of the change log's readers and sweeper.
const (
	// gapKeep is how long a missing seq is read again, and how far back
	// a new Watch looks for gaps.
	gapKeep = time.Minute
	// maxGaps bounds the gaps open at once: past it, Watch ends with an
	// error rather than give up one that is not old yet.
	maxGaps = 10_000
	// pollBatch bounds the rows one query of a poll reads.
	pollBatch = 1000
	// changeLogKeep is how long past the sweep grace the sweeper keeps a
	// row of the change log. A Watch whose polls stall for longer ends
	// with an error: rows it has yet to read may be gone.
	changeLogKeep = 5 * time.Minute
	// maxPendingBeats bounds the beats a Watch holds between two polls;
	// past it, the oldest are dropped.
	maxPendingBeats = 1000
)

// polls is the set of a Store's polling Watches.
type polls struct {
	mu      sync.Mutex
	watches map[*pollWatch]struct{}
}

// pollWatch is one polling Watch.
type pollWatch struct {
	beats []string // Beat's ids waiting for the next poll to begin; guarded by polls.mu
}

func (p *polls) add(w *pollWatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.watches == nil {
		p.watches = map[*pollWatch]struct{}{}
	}
	p.watches[w] = struct{}{}
}

func (p *polls) remove(w *pollWatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.watches, w)
}

// beat queues id for every polling Watch.
func (p *polls) beat(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.watches {
		if len(w.beats) == maxPendingBeats {
			w.beats = w.beats[1:]
		}
		w.beats = append(w.beats, id)
	}
}

// take returns the beats queued for w and empties its queue.
func (p *polls) take(w *pollWatch) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := w.beats
	w.beats = nil
	return ids
}

// changeLog is a poller's place in the change log.
type changeLog struct {
	last int64               // the highest seq read
	gaps map[int64]time.Time // seqs below last not read yet, and when each was first missed
}

// missed opens a gap for each seq between last and seq. Past maxGaps
// open gaps it fails, unless opening (a new Watch, whose gaps are only
// those transactions may still fill), when it opens the highest seqs
// that fit.
func (l *changeLog) missed(seq int64, at time.Time, opening bool) error {
	from := l.last + 1
	if room := int64(maxGaps - len(l.gaps)); seq-from > room {
		if !opening {
			return fmt.Errorf("more than %d seqs of the change log missing at once", maxGaps)
		}
		from = seq - room
	}
	for g := from; g < seq; g++ {
		l.gaps[g] = at
	}
	return nil
}

// watchLog implements Watch by polling the change log every s.poll: it
// reads where the log stands (openLog), delivers ChangeReady, then
// reports each new row, and each row that fills a gap, as a
// ChangeSession. Beats queued before a poll began are delivered
// once it is done: every change committed before Beat was called has then
// been reported.
func (s *Store) watchLog(ctx context.Context, fn func(store.Change)) error {
	w := &pollWatch{}
	s.polls.add(w)
	defer s.polls.remove(w)
	l, err := s.openLog(ctx)
	if err != nil {
		return err
	}
	fn(store.Change{Kind: store.ChangeReady})
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if s.gate.Closed() {
			return ErrClosed
		}
		if stalled := time.Since(last); stalled > changeLogKeep {
			return fmt.Errorf("no poll of the change log for %s: rows may have been swept unread", stalled.Round(time.Second))
		}
		last = time.Now()
		beats := s.polls.take(w)
		if err := s.pollLog(ctx, l, last, fn); err != nil {
			return err
		}
		for _, id := range beats {
			fn(store.Change{Kind: store.ChangeBeat, ID: id})
		}
	}
}

// openLog reads where the change log stands. Its floor is the newest row
// written more than gapKeep ago by the server's clock (the sweeper keeps
// it; 0 when there is none, as in a new table): a transaction still
// running that wrote its row since took a seq above it. The seqs between
// the floor and the newest row that have no row are gaps, opened now.
func (s *Store) openLog(ctx context.Context) (*changeLog, error) {
	l := &changeLog{gaps: map[int64]time.Time{}}
	err := s.db.QueryRowContext(ctx, s.q.changesBefore, gapKeep.Milliseconds()).Scan(&l.last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return l, s.readPast(ctx, l, time.Now(), nil)
}

// pollLog reads the rows past l.last and those that fill l's gaps,
// reports each, and gives up the gaps missed since before gapKeep.
func (s *Store) pollLog(ctx context.Context, l *changeLog, now time.Time, fn func(store.Change)) error {
	if err := s.readPast(ctx, l, now, fn); err != nil {
		return err
	}
	if len(l.gaps) > 0 {
		gaps := make([]any, 0, len(l.gaps))
		for g := range l.gaps {
			gaps = append(gaps, g)
		}
		for i := 0; i < len(gaps); i += inBatch {
			batch := gaps[i:min(i+inBatch, len(gaps))]
			err := s.readLog(ctx, s.d.inList(s.q.changesIn, len(batch)), batch, func(seq int64, id string) error {
				if _, open := l.gaps[seq]; open {
					delete(l.gaps, seq)
					fn(store.Change{Kind: store.ChangeSession, ID: id})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for g, at := range l.gaps {
			if now.Sub(at) > gapKeep {
				delete(l.gaps, g)
			}
		}
	}
	return nil
}

// readPast reads the rows past l.last, in batches, opens a gap for each
// seq it skips, and calls fn with a report of each; a nil fn is
// openLog's reading, which reports nothing.
func (s *Store) readPast(ctx context.Context, l *changeLog, now time.Time, fn func(store.Change)) error {
	for {
		n := 0
		err := s.readLog(ctx, s.q.changesAfter, []any{l.last, pollBatch}, func(seq int64, id string) error {
			n++
			if err := l.missed(seq, now, fn == nil); err != nil {
				return err
			}
			l.last = seq
			if fn != nil {
				fn(store.Change{Kind: store.ChangeSession, ID: id})
			}
			return nil
		})
		if err != nil || n < pollBatch {
			return err
		}
	}
}

// readLog runs a query of the change log and calls f with each row's seq
// and session id, in the query's order.
func (s *Store) readLog(ctx context.Context, query string, args []any, f func(seq int64, id string) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return err
		}
		if err := f(seq, id); err != nil {
			return err
		}
	}
	return rows.Err()
}
