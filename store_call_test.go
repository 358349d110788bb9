package latch_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
)

// deafStore blocks Get, ignoring its context, until release is closed:
// what lib/pq does on a connection whose server stopped answering.
type deafStore struct {
	store.Store
	release chan struct{}
	calls   chan struct{}
}

func (s *deafStore) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	s.calls <- struct{}{}
	<-s.release
	return s.Store.Get(context.Background(), id, now)
}

// TestStoreIgnoringItsContext: a store call that never returns still
// gets its caller an answer, ErrUnavailable, once StoreTimeout passes,
// and the store error reaches the event hook.
func TestStoreIgnoringItsContext(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	deaf := &deafStore{Store: e.Store, release: make(chan struct{}), calls: make(chan struct{}, 8)}
	// However the test ends, the blocked Get returns, so no goroutine
	// outlives it.
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(deaf.release) }) }
	t.Cleanup(release)
	events := make(chan latch.Event, 8)
	cfg := e.Auth.Config()
	cfg.StoreTimeout = latch.Duration(50 * time.Millisecond)
	a, err := latch.New(bg, cfg, latch.WithStore(deaf), latch.WithClock(e.Clock.Now),
		latch.WithEventHook(func(_ context.Context, ev latch.Event) {
			if ev.Kind == latch.EventStoreFailure {
				events <- ev
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := a.Login(context.Background(), "1", latch.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The waits below guard against hangs; they are not speed targets.
	const hang = 20 * time.Second
	answered := make(chan error, 1)
	go func() {
		_, err := a.Authenticate(context.Background(), tk.AccessToken, access)
		answered <- err
	}()
	select {
	case <-deaf.calls: // the request is inside the store now
	case <-time.After(hang):
		t.Fatal("the request never reached the store")
	}
	select {
	case err := <-answered:
		if !errors.Is(err, latch.ErrUnavailable) {
			t.Errorf("Authenticate: %v, want ErrUnavailable", err)
		}
	case <-time.After(hang):
		t.Fatal("no answer while the store ignores its context")
	}
	select {
	case ev := <-events:
		if !errors.Is(ev.Err, latch.ErrUnavailable) || !errors.Is(ev.Err, context.DeadlineExceeded) {
			t.Errorf("event error %v, want ErrUnavailable and DeadlineExceeded", ev.Err)
		}
	case <-time.After(hang):
		t.Fatal("no store failure event")
	}
	release() // the abandoned call returns; nothing may race with it
	if p, err := a.Authenticate(context.Background(), tk.AccessToken, access); err != nil || p.SessionID != tk.SessionID {
		t.Errorf("after the store answers again: %+v, %v", p, err)
	}
}

// panicStore panics in Get.
type panicStore struct {
	store.Store
	value any
}

func (s *panicStore) Get(context.Context, string, time.Time) (*store.Session, error) {
	panic(s.value)
}

// boundedPanicStore is a panicStore that latch calls directly
// (store.Bounded), without a goroutine of its own.
type boundedPanicStore struct{ panicStore }

func (*boundedPanicStore) Bounded() bool { return true }

// TestStorePanic: a store that panics gets its caller ErrUnavailable, not
// a crashed process, and its panic value (which could quote a token) is
// not repeated.
func TestStorePanic(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
		want  string
	}{
		{"runtime error", runtimeError(func() { sink = divide(1, 0) }), "integer divide by zero"},
		{"string", "lta_secret-looking-value", "panic with a string"},
		{"error", errors.New("lta_secret-looking-value"), "panic with a *errors.errorString"},
	} {
		for _, bounded := range []bool{false, true} {
			name := tt.name
			if bounded {
				name += "/bounded"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, latch.ModeOpaque, nil)
				var s store.Store = &panicStore{Store: e.Store, value: tt.value}
				if bounded {
					s = &boundedPanicStore{panicStore{Store: e.Store, value: tt.value}}
				}
				var got latch.Event
				var logs bytes.Buffer // written before the request is answered
				a, err := latch.New(bg, e.Auth.Config(), latch.WithStore(s),
					latch.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
					latch.WithClock(e.Clock.Now), latch.WithEventHook(func(_ context.Context, ev latch.Event) {
						if ev.Kind == latch.EventStoreFailure {
							got = ev
						}
					}))
				if err != nil {
					t.Fatal(err)
				}
				tk, err := a.Login(context.Background(), "1", latch.LoginOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.Authenticate(context.Background(), tk.AccessToken, access); !errors.Is(err, latch.ErrUnavailable) {
					t.Errorf("Authenticate: %v, want ErrUnavailable", err)
				}
				if got.Err == nil || !errors.Is(got.Err, latch.ErrUnavailable) {
					t.Fatalf("store failure event: %+v", got)
				}
				msg := got.Err.Error()
				if !strings.Contains(msg, tt.want) || strings.Contains(msg, "lta_secret-looking-value") {
					t.Errorf("event error %q: want it to contain %q and not the panic value", msg, tt.want)
				}
				// The stack goes to the log, for whoever must fix the store.
				if l := logs.String(); !strings.Contains(l, `msg="latch: store panicked"`) || !strings.Contains(l, "panicStore).Get") {
					t.Errorf("log lacks the panic and its stack:\n%s", l)
				}
				if strings.Contains(logs.String(), "lta_secret-looking-value") {
					t.Error("log repeats the panic value")
				}
			})
		}
	}
}

// divide and sink make a runtime error that no linter sees coming.
func divide(a, b int) int { return a / b }

var sink int

// runtimeError returns the runtime error f panics with.
func runtimeError(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// A store that answers Get with neither a session nor an error breaks its
// contract; latch fails closed instead of panicking.
func TestNilSessionFromStoreFailsClosed(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, func(c *latch.Config) { c.SessionCheck = true })
	tk := e.Login(t, users["1"], "x")
	cfg := e.Auth.Config()
	cfg.JWT.Secret = "" // the keyring holds the key
	a, err := latch.New(bg, cfg, latch.WithStore(nilStore{e.Store}), latch.WithKeyring(e.Auth.Keyring()),
		latch.WithClock(e.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrUnavailable) {
		t.Errorf("Verify = %v, want ErrUnavailable", err)
	}
}

type nilStore struct{ *storetest.Probe }

func (nilStore) Get(context.Context, string, time.Time) (*store.Session, error) { return nil, nil }
