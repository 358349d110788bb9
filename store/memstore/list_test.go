package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestList(t *testing.T) {
	ctx := context.Background()

	t.Run("1000 sessions newest first, ties by id", func(t *testing.T) {
		m := New()
		type key struct {
			created time.Time
			id      string
		}
		var want []key
		for i := range 1000 {
			created := t0.Add(time.Duration(i%37) * time.Second) // many ties
			id := mustCreate(t, m, newSession("alice", created), 0)
			want = append(want, key{created, id})
		}
		mustCreate(t, m, newSession("bob", t0), 0)
		slices.SortFunc(want, func(a, b key) int {
			if c := b.created.Compare(a.created); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		got := mustList(t, m, "alice", t0.Add(time.Minute))
		if len(got) != len(want) {
			t.Fatalf("List returned %d sessions, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].id || !got[i].CreatedAt.Equal(want[i].created) {
				t.Fatalf("List[%d] = %s at %v, want %s at %v", i, got[i].ID, got[i].CreatedAt, want[i].id, want[i].created)
			}
		}
	})

	t.Run("only live sessions", func(t *testing.T) {
		m := New()
		dead := newSession("alice", t0)
		dead.IdleUntil = t0.Add(time.Minute)
		mustCreate(t, m, dead, 0)
		expired := newSession("alice", t0)
		expired.IdleUntil, expired.ExpiresAt = t0.Add(48*time.Hour), t0.Add(time.Minute)
		mustCreate(t, m, expired, 0)
		live := mustCreate(t, m, newSession("alice", t0), 0)
		got := mustList(t, m, "alice", t0.Add(time.Minute))
		if len(got) != 1 || got[0].ID != live {
			t.Fatalf("List = %d sessions, want only %s", len(got), live)
		}
	})

	t.Run("only the subject's", func(t *testing.T) {
		m := New()
		subjects := []string{"alice", "Alice", "alice ", " alice", "alic", "alice2", ""}
		ids := map[string]string{}
		for _, s := range subjects {
			ids[s] = mustCreate(t, m, newSession(s, t0), 0)
		}
		for _, s := range subjects {
			got := mustList(t, m, s, t0)
			if len(got) != 1 || got[0].ID != ids[s] || got[0].Subject != s {
				t.Errorf("List(%q) = %+v, want just %s", s, got, ids[s])
			}
		}
	})

	t.Run("empty is a non-nil empty slice", func(t *testing.T) {
		m := New()
		mustCreate(t, m, newSession("alice", t0), 0)
		for _, tc := range []struct {
			name, subject string
			now           time.Time
		}{{"unknown subject", "bob", t0}, {"all dead", "alice", t0.Add(time.Hour)}} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := m.List(ctx, tc.subject, tc.now)
				if err != nil || got == nil || len(got) != 0 {
					t.Fatalf("List = %#v, %v; want empty non-nil, nil", got, err)
				}
			})
		}
	})
}

func TestCreateMax(t *testing.T) {
	type sess struct {
		label   string
		created time.Duration // after t0
		dead    bool          // idled out before the new session's creation
	}
	cases := []struct {
		name     string
		existing []sess
		new      sess
		max      int
		want     []string // labels the subject holds afterwards, newest first
	}{
		{
			name:     "no cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 0,
			want: []string{"d", "c", "b", "a"},
		},
		{
			name:     "negative is no cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: -1,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "below the cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: 5,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "reaching the cap",
			existing: []sess{{"a", 0, false}, {"b", 1, false}},
			new:      sess{"c", 3, false}, max: 3,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "over the cap evicts the oldest",
			existing: []sess{{"b", 1, false}, {"a", 0, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 3,
			want: []string{"d", "c", "b"},
		},
		{
			name:     "max 1 keeps only the new one",
			existing: []sess{{"a", 0, false}, {"b", 1, false}, {"c", 2, false}},
			new:      sess{"d", 3, false}, max: 1,
			want: []string{"d"},
		},
		{
			name:     "dead sessions are dropped and not counted",
			existing: []sess{{"a", 0, false}, {"dead", 1, true}, {"b", 2, false}},
			new:      sess{"c", 3, false}, max: 3,
			want: []string{"c", "b", "a"},
		},
		{
			name:     "dead sessions are dropped without a cap",
			existing: []sess{{"dead1", 0, true}, {"a", 1, false}, {"dead2", 2, true}},
			new:      sess{"b", 3, false}, max: 0,
			want: []string{"b", "a"},
		},
		{
			name:     "a new session older than max others is kept; the oldest other goes",
			existing: []sess{{"a", 5, false}, {"b", 6, false}},
			new:      sess{"old", 0, false}, max: 2,
			want: []string{"b", "old"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			newAt := t0.Add(time.Hour + tc.new.created*time.Second)
			mk := func(x sess) *store.Session {
				s := newSession("alice", t0.Add(time.Hour+x.created*time.Second))
				s.Device.Label = x.label
				if x.dead {
					s.IdleUntil = newAt
				}
				return s
			}
			for _, x := range tc.existing {
				mustCreate(t, m, mk(x), 0)
			}
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			mustCreate(t, m, mk(tc.new), tc.max)

			var got []string
			for _, s := range mustList(t, m, "alice", newAt.Add(-time.Nanosecond)) { // dead ones still live here
				got = append(got, s.Device.Label)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("alice holds %v, want %v", got, tc.want)
			}
			if n := stored(m, "alice"); n != len(tc.want) {
				t.Fatalf("%d alice sessions in memory, want %d", n, len(tc.want))
			}
			mustGet(t, m, bob, t0)
			checkIndex(t, m)
		})
	}

	t.Run("ties evict the greatest id first", func(t *testing.T) {
		m := New()
		var ids []string
		for range 4 {
			ids = append(ids, mustCreate(t, m, newSession("alice", t0), 0))
		}
		newest := mustCreate(t, m, newSession("alice", t0.Add(time.Second)), 3)
		slices.Sort(ids)
		want := []string{newest, ids[0], ids[1]}
		var got []string
		for _, s := range mustList(t, m, "alice", t0) {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("kept %v, want %v", got, want)
		}
	})
}

func TestCreateMaxConcurrent(t *testing.T) {
	const creators, max = 32, 5
	for _, tc := range []struct {
		name string
		at   func(i int) time.Time
	}{
		{"distinct CreatedAt", func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }},
		{"equal CreatedAt", func(i int) time.Time { return t0 }},
	} {
		for round := range 5 {
			t.Run(fmt.Sprintf("%s/round %d", tc.name, round), func(t *testing.T) {
				m := New()
				bob := mustCreate(t, m, newSession("bob", t0), 0)
				ids := make([]string, creators)
				var start, done sync.WaitGroup
				start.Add(1)
				for i := range creators {
					done.Go(func() {
						start.Wait()
						s := newSession("alice", tc.at(i))
						if err := m.Create(context.Background(), s, max); err != nil {
							t.Errorf("Create %d: %v", i, err)
						}
						ids[i] = s.ID
					})
				}
				start.Done()
				done.Wait()

				// Exactly max survive, all of them alice's; which ones
				// depends on the order the Creates ran in.
				mine := map[string]bool{}
				for _, id := range ids {
					mine[id] = true
				}
				list := mustList(t, m, "alice", t0)
				if len(list) != max {
					t.Fatalf("alice holds %d sessions, want %d", len(list), max)
				}
				for _, s := range list {
					if !mine[s.ID] {
						t.Fatalf("survivor %s was not created by this test", s.ID)
					}
				}
				if n := stored(m, "alice"); n != max {
					t.Fatalf("%d alice sessions in memory, want %d", n, max)
				}
				mustGet(t, m, bob, t0)
				checkIndex(t, m)
			})
		}
	}
}
