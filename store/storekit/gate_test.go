package storekit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var errClosed = errors.New("kvstore: store closed")

func newGate() *storekit.Gate {
	return &storekit.Gate{Store: "kvstore", ErrClosed: errClosed, ErrInvalid: errInvalid}
}

func TestGate(t *testing.T) {
	g := newGate()
	ctx := context.Background()
	if err := g.Enter(ctx, "get"); err != nil {
		t.Fatalf("Enter on an open gate = %v", err)
	}
	if err := g.EnterID(ctx, "get", store.NewID()); err != nil {
		t.Fatalf("EnterID of a valid id = %v", err)
	}
	for _, id := range []string{"", "short", strings.Repeat("-", store.IDLen)} {
		if err := g.EnterID(ctx, "get", id); err != store.ErrNotFound {
			t.Errorf("EnterID(%q) = %v, want store.ErrNotFound", id, err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.EnterID(done, "get", "bad id"); !errors.Is(err, context.Canceled) || err.Error() != "kvstore: get: context canceled" {
		t.Errorf("Enter with a done context = %v", err)
	}
	released := 0
	boom := errors.New("boom")
	release := func() error { released++; return boom }
	if g.Closed() || g.Close(release) != boom || g.Close(release) != boom || !g.Closed() || released != 1 {
		t.Errorf("Close released %d times; want once, its error returned by every Close", released)
	}
	if err := g.Enter(ctx, "touch"); !errors.Is(err, errClosed) || err.Error() != "kvstore: touch: kvstore: store closed" {
		t.Errorf("Enter after Close = %v", err)
	}
	// A done context wins over a closed store: the caller gave up first.
	if err := g.Enter(done, "touch"); !errors.Is(err, context.Canceled) {
		t.Errorf("Enter after Close with a done context = %v", err)
	}
}

func TestGateWrap(t *testing.T) {
	g := newGate()
	boom := errors.New("connection reset")
	if err := g.Wrap(context.Background(), "rotate", boom); !errors.Is(err, boom) || err.Error() != "kvstore: rotate: connection reset" {
		t.Errorf("Wrap = %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Wrap(done, "rotate", boom); !errors.Is(err, boom) || !errors.Is(err, context.Canceled) {
		t.Errorf("Wrap with a done context = %v, want both errors", err)
	}
	if err := g.Wrap(done, "rotate", context.Canceled); err.Error() != "kvstore: rotate: context canceled" {
		t.Errorf("Wrap of the context's own error = %v", err)
	}
	if g.Wrap(done, "rotate", nil) != nil || g.Invalid(nil) != nil {
		t.Error("nil is not nil")
	}
}

func TestGateChecks(t *testing.T) {
	g := newGate()
	long := make([]byte, store.HashLen+1)
	ok := func() *store.Session {
		return &store.Session{Subject: "alice", RefreshHash: make([]byte, store.HashLen), Spent: [][]byte{{1}}}
	}
	if err := g.CheckSession(ok()); err != nil {
		t.Fatalf("CheckSession of a good session = %v", err)
	}
	for name, change := range map[string]func(s *store.Session){
		"subject not UTF-8": func(s *store.Session) { s.Subject = "\xff" },
		"subject with NUL":  func(s *store.Session) { s.Subject = "a\x00b" },
		"subject too long":  func(s *store.Session) { s.Subject = strings.Repeat("a", store.MaxSubjectLen+1) },
		"long device field": func(s *store.Session) { s.Device.IP = strings.Repeat("1", store.MaxDeviceLen+1) },
		"long secret hash":  func(s *store.Session) { s.SecretHash = long },
		"long spent hash":   func(s *store.Session) { s.Spent = append(s.Spent, long) },
		"actor subject":     func(s *store.Session) { s.Actor = &store.Actor{Subject: "\xff", SessionID: store.NewID()} },
		"actor session id":  func(s *store.Session) { s.Actor = &store.Actor{Subject: "bob", SessionID: store.NewID() + "x"} },
	} {
		s := ok()
		change(s)
		if err := g.CheckSession(s); !errors.Is(err, errInvalid) {
			t.Errorf("%s: CheckSession = %v, want ErrInvalid", name, err)
		}
	}
	if err := g.CheckSession(nil); !errors.Is(err, errInvalid) {
		t.Errorf("CheckSession(nil) = %v, want ErrInvalid", err)
	}
	if err := g.CheckRotation(&store.Rotation{Old: long, RefreshHash: make([]byte, store.HashLen)}); err != nil {
		t.Errorf("CheckRotation with a long Old = %v: it only fails to match", err)
	}
	if err := g.CheckRotation(&store.Rotation{RefreshHash: long}); !errors.Is(err, errInvalid) {
		t.Errorf("CheckRotation with a long new hash = %v, want ErrInvalid", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range []error{
		g.EnterSession(done, "create", ok()),
		g.EnterRotation(done, "rotate", store.NewID(), &store.Rotation{}),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Enter with a done context = %v", err)
		}
	}
	if err := g.EnterSession(context.Background(), "create", nil); !errors.Is(err, errInvalid) {
		t.Errorf("EnterSession(nil) = %v, want ErrInvalid", err)
	}
	if err := g.EnterRotation(context.Background(), "rotate", "bad", &store.Rotation{RefreshHash: long}); err != store.ErrNotFound {
		t.Errorf("EnterRotation of a bad id = %v, want store.ErrNotFound first", err)
	}
	if err := g.EnterRotation(context.Background(), "rotate", store.NewID(), &store.Rotation{RefreshHash: long}); !errors.Is(err, errInvalid) {
		t.Errorf("EnterRotation with a long hash = %v, want ErrInvalid", err)
	}
	if err := g.CheckSession(&store.Session{Actor: &store.Actor{}}); err != nil {
		t.Errorf("CheckSession with an empty actor = %v", err)
	}
	if !storekit.ValidSubject("") || !storekit.ValidSubject(strings.Repeat("é", store.MaxSubjectLen/2)) {
		t.Error("ValidSubject refuses a subject within the limits")
	}
}

func TestGateStrikeKeys(t *testing.T) {
	g := newGate()
	ctx := context.Background()
	good := []string{"a", " ", "~", "ip:192.0.2.1", "user:alice@example.com", strings.Repeat("k", store.MaxStrikeKeyLen)}
	for _, k := range good {
		if !storekit.ValidStrikeKey(k) {
			t.Errorf("ValidStrikeKey(%q) = false", k)
		}
	}
	if err := g.EnterStrikes(ctx, "add strike", good...); err != nil {
		t.Errorf("EnterStrikes of valid keys = %v", err)
	}
	if err := g.EnterStrikes(ctx, "strikes"); err != nil {
		t.Errorf("EnterStrikes of no keys = %v", err)
	}
	for _, k := range []string{"", strings.Repeat("k", store.MaxStrikeKeyLen+1), "a\x00", "a\nb", "tab\t", "\x7f", "é", "\xff"} {
		if storekit.ValidStrikeKey(k) {
			t.Errorf("ValidStrikeKey(%q) = true", k)
		}
		err := g.EnterStrikes(ctx, "add strike", "ok", k)
		if !errors.Is(err, errInvalid) {
			t.Errorf("EnterStrikes(%q) = %v, want ErrInvalid", k, err)
		} else if k != "" && strings.Contains(err.Error(), k) {
			t.Errorf("EnterStrikes(%q) = %v: the error quotes the key", k, err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.EnterStrikes(done, "strikes", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("EnterStrikes with a done context = %v", err)
	}
}
