package mongostore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Concurrent first Touches of one session: none fails (the loser of the
// upsert retries as an update). On MongoDB the latest use wins whatever
// the order of the writes; on FerretDB, whose updates are not
// conditional at the write, the last write wins (see the package doc),
// so only a recorded use among those sent is checked there.
func TestTouchConcurrent(t *testing.T) {
	s, x := storeWithSession(t)
	ctx := context.Background()
	for round := range 5 {
		base := x.CreatedAt.Add(time.Duration(round+1) * time.Minute)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.Touch(ctx, x.ID, base.Add(time.Duration(i)*time.Millisecond), time.Hour, 0) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Touch %d: %v", round, i, err)
			}
		}
		got, err := s.Get(ctx, x.ID, base)
		if err != nil {
			t.Fatal(err)
		}
		last := base.Add((n - 1) * time.Millisecond)
		switch {
		case s.oneQuery.Load() && !got.LastUsedAt.Equal(last):
			t.Errorf("round %d: LastUsedAt %s, want the latest use %s", round, got.LastUsedAt, last)
		case got.LastUsedAt.Before(base) || got.LastUsedAt.After(last):
			t.Errorf("round %d: LastUsedAt %s, not one of the uses sent", round, got.LastUsedAt)
		case !got.IdleUntil.Equal(got.LastUsedAt.Add(time.Hour)):
			t.Errorf("round %d: IdleUntil %s does not go with LastUsedAt %s", round, got.IdleUntil, got.LastUsedAt)
		}
	}
}
