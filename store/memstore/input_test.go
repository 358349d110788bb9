package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestContextDone(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()

	ops := []struct {
		name string
		do   func(ctx context.Context, m *Store, id string) error
	}{
		{"Create", func(ctx context.Context, m *Store, id string) error {
			s := newSession("alice", t0)
			err := m.Create(ctx, s, 1)
			if s.ID != "" {
				return fmt.Errorf("failed Create assigned id %s (err %v)", s.ID, err)
			}
			return err
		}},
		{"Get", func(ctx context.Context, m *Store, id string) error {
			s, err := m.Get(ctx, id, t0)
			if s != nil {
				return errors.New("Get returned a session with its error")
			}
			return err
		}},
		{"Touch", func(ctx context.Context, m *Store, id string) error {
			return m.Touch(ctx, id, t0.Add(time.Minute), time.Hour, 0)
		}},
		{"Rotate", func(ctx context.Context, m *Store, id string) error {
			return m.Rotate(ctx, id, store.Rotation{Old: hash("refresh"), RefreshHash: hash("x"), IdleUntil: t0.Add(time.Hour)}, t0)
		}},
		{"Revoke", func(ctx context.Context, m *Store, id string) error { return m.Revoke(ctx, "alice", id) }},
		{"RevokeSubject", func(ctx context.Context, m *Store, id string) error {
			_, err := m.RevokeSubject(ctx, "alice", "")
			return err
		}},
		{"List", func(ctx context.Context, m *Store, id string) error {
			l, err := m.List(ctx, "alice", t0)
			if l != nil {
				return errors.New("List returned sessions with its error")
			}
			return err
		}},
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"canceled", canceled, context.Canceled}, {"deadline exceeded", expired, context.DeadlineExceeded}} {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				want := *s
				id := mustCreate(t, m, s, 0)
				want.ID = id
				before := snap(m)
				err := op.do(c.ctx, m, id)
				if !errors.Is(err, c.want) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
					t.Fatalf("%s = %v, want an error wrapping %v", op.name, err, c.want)
				}
				if n := before.changes(m); n != 0 {
					t.Errorf("%d changes: a done ctx changed state", n)
				}
				if n := stored(m, "alice"); n != 1 {
					t.Errorf("alice has %d sessions, want 1", n)
				}
				sameSession(t, mustGet(t, m, id, t0), &want)
			})
		}
	}
}

func TestHostileStrings(t *testing.T) {
	hostile := []struct{ name, s string }{
		{"unicode", "ユーザー・Ünïcødé"},
		{"emoji", "🔐👩‍💻"},
		{"double quotes", `"quoted" ""`},
		{"single quotes", `O'Brien''`},
		{"sql injection", `'; DROP TABLE sessions; --`},
		{"sql wildcard", `%_\%`},
		{"json", `{"sub":"admin","x":[1,2]}`},
		{"json escape", `\u0000\"\\`},
		{"control characters", "tab\tnewline\ncr\r\x01\x7f"},
		{"format verbs", "%s %d %v %!"},
		{"url", "a/b?c=d&e#f"},
		{"1 KiB ascii", strings.Repeat("x", store.MaxSubjectLen)},
		{"1 KiB two-byte", strings.Repeat("é", store.MaxSubjectLen/2)},
		{"1 KiB four-byte", strings.Repeat("🔐", store.MaxSubjectLen/4)},
		{"empty", ""},
	}
	m := New()
	ids := map[string]string{}
	for _, h := range hostile {
		s := newSession(h.s, t0)
		s.Device = store.Device{Label: h.s, UserAgent: h.s, IP: h.s}
		ids[h.name] = mustCreate(t, m, s, 1)
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			got := mustGet(t, m, ids[h.name], t0)
			if got.Subject != h.s || got.Device != (store.Device{Label: h.s, UserAgent: h.s, IP: h.s}) {
				t.Fatalf("came back as %q %+v", got.Subject, got.Device)
			}
			l := mustList(t, m, h.s, t0)
			if len(l) != 1 || l[0].ID != ids[h.name] {
				t.Fatalf("List = %d sessions, want just its own", len(l))
			}
		})
	}
	t.Run("revocation stays scoped", func(t *testing.T) {
		for i, h := range hostile {
			if err := m.Revoke(context.Background(), h.s, ids[hostile[(i+1)%len(hostile)].name]); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range hostile {
			mustGet(t, m, ids[h.name], t0)
		}
		if n, err := m.RevokeSubject(context.Background(), hostile[4].s, ""); err != nil || n != 1 {
			t.Fatalf("RevokeSubject = %d, %v; want 1, nil", n, err)
		}
		for i, h := range hostile {
			if i == 4 {
				assertNotFound(t, m, ids[h.name], t0)
			} else {
				mustGet(t, m, ids[h.name], t0)
			}
		}
		checkIndex(t, m)
	})
}

type point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

func TestClaims(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		want   map[string]any
	}{
		{"nil", nil, nil},
		{"empty", map[string]any{}, map[string]any{}},
		{"int becomes float64", map[string]any{"n": 42, "i64": int64(-7), "u8": uint8(255)}, map[string]any{"n": 42.0, "i64": -7.0, "u8": 255.0}},
		{"float, bool, string, null", map[string]any{"f": 1.5, "b": true, "s": "x", "z": nil}, map[string]any{"f": 1.5, "b": true, "s": "x", "z": nil}},
		{
			"nested maps",
			map[string]any{"org": map[string]any{"id": 7, "roles": map[string]int{"admin": 1}}},
			map[string]any{"org": map[string]any{"id": 7.0, "roles": map[string]any{"admin": 1.0}}},
		},
		{"slices", map[string]any{"scopes": []string{"read", "write"}, "mixed": []any{1, "a", nil}}, map[string]any{"scopes": []any{"read", "write"}, "mixed": []any{1.0, "a", nil}}},
		{"struct", map[string]any{"p": point{1, 2}}, map[string]any{"p": map[string]any{"x": 1.0, "y": 2.0}}},
		{"bytes become base64", map[string]any{"b": []byte{0xff, 0x00}}, map[string]any{"b": "/wA="}},
		{"time becomes a string", map[string]any{"t": t0}, map[string]any{"t": "2030-01-01T00:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			s.Claims = tc.claims
			id := mustCreate(t, m, s, 0)
			got := mustGet(t, m, id, t0).Claims
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Claims = %#v, want %#v", got, tc.want)
			}
			if l := mustList(t, m, "alice", t0); !reflect.DeepEqual(l[0].Claims, tc.want) {
				t.Fatalf("List Claims = %#v, want %#v", l[0].Claims, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		claims map[string]any
	}{
		{"channel", map[string]any{"c": make(chan int)}},
		{"func", map[string]any{"f": func() {}}},
		{"NaN", map[string]any{"n": math.NaN()}},
		{"nested infinity", map[string]any{"a": map[string]any{"b": math.Inf(1)}}},
	} {
		t.Run("unencodable "+tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			s.Claims = tc.claims
			err := m.Create(context.Background(), s, 0)
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("Create = %v, want a backend error", err)
			}
			if s.ID != "" || stored(m, "alice") != 0 || (snapshot{}).changes(m) != 0 {
				t.Fatalf("failed Create stored something (id %q)", s.ID)
			}
		})
	}
}
