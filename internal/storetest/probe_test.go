package storetest_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

var bg = context.Background()

func newSession(now time.Time) *store.Session {
	return &store.Session{Subject: "1", RefreshHash: make([]byte, store.HashLen), CreatedAt: now, LastUsedAt: now,
		IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
}

// calls makes one call of each method.
func calls(p *storetest.Probe, now time.Time) []error {
	s := newSession(now)
	var errs []error
	errs = append(errs, p.Create(bg, s, 0))
	_, err := p.Get(bg, s.ID, now)
	errs = append(errs, err)
	errs = append(errs, p.Touch(bg, s.ID, now, time.Hour, time.Minute))
	errs = append(errs, p.Rotate(bg, s.ID, store.Rotation{Old: s.RefreshHash, RefreshHash: make([]byte, store.HashLen)}, now))
	errs = append(errs, p.Revoke(bg, "1", s.ID))
	_, err = p.RevokeSubject(bg, "1", "")
	errs = append(errs, err)
	_, err = p.List(bg, "1", now)
	return append(errs, err)
}

var oneEach = storetest.Calls{Create: 1, Get: 1, Touch: 1, Rotate: 1, Revoke: 1, RevokeSubject: 1, List: 1}

func TestCounts(t *testing.T) {
	p := &storetest.Probe{Store: memstore.New()}
	for i, err := range calls(p, time.Now()) {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if got := p.Calls(); got != oneEach {
		t.Errorf("Calls = %+v, want %+v", got, oneEach)
	}
	if n := p.Calls().Writes(); n != 5 {
		t.Errorf("Writes = %d, want 5", n)
	}
	p.Reset()
	if got := p.Calls(); got != (storetest.Calls{}) {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestDown(t *testing.T) {
	mine := errors.New("mine")
	for _, c := range []struct {
		name      string
		err, want error
	}{
		{"default error", nil, storetest.ErrDown},
		{"own error", mine, mine},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &storetest.Probe{Store: memstore.New(), Err: c.err}
			p.SetDown(true)
			for i, err := range calls(p, time.Now()) {
				if !errors.Is(err, c.want) {
					t.Errorf("call %d: %v, want %v", i, err, c.want)
				}
			}
			if got := p.Calls(); got != oneEach {
				t.Errorf("down, Calls = %+v, want every call counted", got)
			}
			p.SetDown(false)
			if _, err := p.List(bg, "1", time.Now()); err != nil {
				t.Errorf("back up: %v", err)
			}
		})
	}
}

func TestOnWrite(t *testing.T) {
	type write struct {
		method string
		args   []any
	}
	var got []write
	p := &storetest.Probe{Store: memstore.New(), OnWrite: func(method string, args ...any) {
		got = append(got, write{method, args})
	}}
	now := time.Now()
	s := newSession(now)
	r := store.Rotation{Old: s.RefreshHash, RefreshHash: make([]byte, store.HashLen)}
	p.Create(bg, s, 3)
	p.Get(bg, s.ID, now)
	p.Touch(bg, s.ID, now, time.Hour, time.Minute)
	p.Rotate(bg, s.ID, r, now)
	p.List(bg, "1", now)
	p.Revoke(bg, "1", s.ID)
	p.RevokeSubject(bg, "1", "keep")
	p.SetDown(true)
	p.Revoke(bg, "1", "x")
	want := []write{
		{"Create", []any{s, 3}},
		{"Touch", []any{s.ID, now, time.Hour, time.Minute}},
		{"Rotate", []any{s.ID, r, now}},
		{"Revoke", []any{"1", s.ID}},
		{"RevokeSubject", []any{"1", "keep"}},
		{"Revoke", []any{"1", "x"}}, // down: still shown
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnWrite saw\n%v\nwant\n%v", got, want)
	}
}

func TestDelay(t *testing.T) {
	p := &storetest.Probe{Store: memstore.New()}
	p.SetDelay(time.Minute)
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.Get(ctx, store.NewID(), time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Get took %s with a done ctx", d)
	}
	p.SetDelay(0)
	if _, err := p.Get(bg, store.NewID(), time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("without delay: %v, want store.ErrNotFound", err)
	}
}

// TestConcurrent is for -race: counting, going down and resetting from
// many goroutines at once.
func TestConcurrent(t *testing.T) {
	p := &storetest.Probe{Store: memstore.New()}
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p.SetDown(i%2 == 0)
			p.Get(bg, store.NewID(), time.Now())
			p.Calls()
		})
	}
	wg.Wait()
	if got := p.Calls().Get; got != n {
		t.Errorf("Get counted %d times, want %d", got, n)
	}
	wg.Go(func() { p.Reset() })
	p.Calls()
	wg.Wait()
}
