package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestNewOptions(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:") // New does no I/O
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{"latch_", "a", "_x", "app1_latch_", strings.Repeat("a", maxPrefixLen)} {
		if _, err := New(db, SQLite, WithTablePrefix(p), WithSweepInterval(0)); err != nil {
			t.Errorf("WithTablePrefix(%q): %v", p, err)
		}
	}
	// "": the migrations table would be schema_migrations, which
	// golang-migrate, Rails and others use for their own.
	for _, p := range []string{"", "Latch_", "1x", "a-b", "a b", "a;drop", "é", `a"`, strings.Repeat("a", maxPrefixLen+1)} {
		if _, err := New(db, SQLite, WithTablePrefix(p)); !errors.Is(err, ErrInvalid) {
			t.Errorf("WithTablePrefix(%q) = %v, want ErrInvalid", p, err)
		}
	}
	if _, err := New(db, SQLite, WithSweepInterval(-time.Second)); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative interval: %v", err)
	}
	if _, err := New(db, SQLite, WithSweepGrace(-time.Second)); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative grace: %v", err)
	}
	if s, err := New(db, SQLite, WithSweepInterval(0)); err != nil || s.kit.SweepGrace != DefaultSweepGrace || s.sweeper != nil {
		t.Errorf("default grace = %v, %v; want %v, and no sweeper", s.kit.SweepGrace, err, DefaultSweepGrace)
	}
	for _, d := range []Dialect{0, SQLite + 1, -1} {
		if _, err := New(db, d); !errors.Is(err, ErrInvalid) {
			t.Errorf("dialect %v: %v, want ErrInvalid", d, err)
		}
	}
	if _, err := New(nil, PostgreSQL); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil db: %v", err)
	}
	for d, want := range map[Dialect]string{PostgreSQL: "postgres", MySQL: "mysql", SQLite: "sqlite", 7: "Dialect(7)"} {
		if d.String() != want {
			t.Errorf("Dialect %d is %q, want %q", int(d), d, want)
		}
	}
}

func TestTimes(t *testing.T) {
	if ms(time.Time{}) != 0 || !fromMS(0).IsZero() {
		t.Error("the zero time does not map to 0 and back")
	}
	at := time.Date(2030, 5, 6, 7, 8, 9, 987654321, time.FixedZone("x", 3600))
	if got := fromMS(ms(at)); !got.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("round trip of %s = %s", at, got)
	}
	// The ends of the int64 range, and times before 1970, fit.
	for _, at := range []time.Time{
		time.UnixMilli(math.MaxInt64), time.UnixMilli(math.MinInt64), time.UnixMilli(math.MinInt64 + 1),
		time.UnixMilli(math.MaxInt64).Add(999 * time.Microsecond), // rounds down to the maximum
		time.Date(1900, 1, 2, 3, 4, 5, 6e6, time.UTC), time.UnixMilli(-1), time.Unix(0, 1),
	} {
		v, ok := toMS(at)
		if !ok || v != at.UnixMilli() {
			t.Errorf("toMS(%d ms) = %d, %v", at.UnixMilli(), v, ok)
		}
		if got := fromMS(v); v != 0 && !got.Equal(time.UnixMilli(at.UnixMilli())) {
			t.Errorf("round trip of %s = %s", at, got)
		}
	}
	// Just beyond them, and far beyond: UnixMilli would wrap.
	for _, at := range []time.Time{
		time.UnixMilli(math.MaxInt64).Add(time.Millisecond), time.UnixMilli(math.MinInt64).Add(-time.Nanosecond),
		time.UnixMilli(math.MinInt64).Add(-time.Millisecond), time.Unix(1<<62, 0), time.Unix(-1<<62, 0),
		time.Unix(math.MaxInt64/1000+1, 0), time.Unix(math.MinInt64/1000-1, 0),
	} {
		if v, ok := toMS(at); ok {
			t.Errorf("toMS(%s) = %d, true; want out of range", at, v)
		}
		if _, err := storedMS("ExpiresAt", at); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ExpiresAt") {
			t.Errorf("storedMS(%s) = %v, want ErrInvalid naming the field", at, err)
		}
	}
	// Comparisons clamp: every stored time lies between the ends.
	if ms(time.Unix(1<<62, 0)) != math.MaxInt64 || ms(time.Unix(-1<<62, 0)) != math.MinInt64 {
		t.Error("ms does not clamp out-of-range times")
	}
}

func TestSpentEncoding(t *testing.T) {
	list := [][]byte{bytes.Repeat([]byte{0xab}, 32), {}, {0}, []byte("short"), bytes.Repeat([]byte{0xff}, 31)}
	enc, err := encodeSpent(list)
	if err != nil || len(enc) != len(list)*spentWidth {
		t.Fatalf("encodeSpent = %q, %v", enc, err)
	}
	got, err := decodeSpent(enc)
	if err != nil || len(got) != len(list) {
		t.Fatalf("decodeSpent = %x, %v", got, err)
	}
	for i := range list {
		if !bytes.Equal(got[i], list[i]) {
			t.Errorf("entry %d = %x, want %x", i, got[i], list[i])
		}
	}
	if _, err := encodeSpent([][]byte{make([]byte, 33)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("33-byte spent hash: %v", err)
	}
	for _, bad := range []string{"0", "zz" + strings.Repeat("0", 64), "21" + strings.Repeat("0", 64), "02zz" + strings.Repeat("0", 62)} {
		if _, err := decodeSpent(bad); err == nil {
			t.Errorf("decodeSpent(%q) succeeded", bad)
		}
	}
	if spentChars(0) != 0 || spentChars(-1) != 0 || spentChars(3) != 3*spentWidth || spentChars(1<<40) != 1<<31-1 {
		t.Error("spentChars out of range")
	}
}

func FuzzSpent(f *testing.F) {
	f.Add([]byte("hash"), []byte{}, "")
	f.Add(bytes.Repeat([]byte{1}, 32), []byte{0, 0}, "20"+strings.Repeat("a", 64))
	f.Fuzz(func(t *testing.T, a, b []byte, raw string) {
		decodeSpent(raw) // never panics
		a, b = a[:min(len(a), store.HashLen)], b[:min(len(b), store.HashLen)]
		enc, err := encodeSpent([][]byte{a, b})
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSpent(enc)
		if err != nil || len(got) != 2 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
			t.Fatalf("round trip of %x, %x = %x, %v", a, b, got, err)
		}
	})
}

// TestStoreEdges covers what the conformance suite leaves to each store.
func TestStoreEdges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		session := func(subject string) *store.Session {
			return &store.Session{Subject: subject, RefreshHash: []byte("r"), CreatedAt: now, LastUsedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		}

		t.Run("values-beyond-the-limits-are-refused", func(t *testing.T) {
			s := newStore(t, db)
			for name, mod := range map[string]func(*store.Session){
				"long subject":     func(x *store.Session) { x.Subject = strings.Repeat("x", store.MaxSubjectLen+1) },
				"invalid UTF-8":    func(x *store.Session) { x.Subject = "a\xffb" },
				"NUL in subject":   func(x *store.Session) { x.Subject = "a\x00b" },
				"long device":      func(x *store.Session) { x.Device.UserAgent = strings.Repeat("x", store.MaxDeviceLen+1) },
				"long hash":        func(x *store.Session) { x.RefreshHash = make([]byte, store.HashLen+1) },
				"long spent":       func(x *store.Session) { x.Spent = [][]byte{make([]byte, store.HashLen+1)} },
				"unencodable JSON": func(x *store.Session) { x.Claims = map[string]any{"f": func() {}} },
			} {
				x := session("alice")
				mod(x)
				if err := s.Create(ctx, x, 0); err == nil || errors.Is(err, store.ErrNotFound) {
					t.Errorf("Create with a %s = %v, want an error", name, err)
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); n != 0 {
				t.Errorf("%d sessions stored from refused Creates", n)
			}
			// Subjects that cannot be stored find nothing, without an error.
			if l, err := s.List(ctx, "a\xffb", now); err != nil || l == nil || len(l) != 0 {
				t.Errorf("List of an invalid subject = %v, %v", l, err)
			}
			if n, err := s.RevokeSubject(ctx, "a\x00b", ""); err != nil || n != 0 {
				t.Errorf("RevokeSubject of an invalid subject = %d, %v", n, err)
			}
		})

		t.Run("device-fields-byte-exact", func(t *testing.T) {
			s := newStore(t, db)
			x := session("alice")
			x.Device = store.Device{Label: "not \xff\xfe UTF-8", UserAgent: "nul\x00inside", IP: strings.Repeat("\x80", store.MaxDeviceLen)}
			if err := s.Create(ctx, x, 0); err != nil {
				t.Fatalf("Create: %v", err)
			}
			got, err := s.Get(ctx, x.ID, now)
			if err != nil || got.Device != x.Device {
				t.Errorf("Get = %q, %v; want %q", got.Device, err, x.Device)
			}
		})

		// A Rotate that writes exactly the stored values: MySQL reports 0
		// changed rows, which must not read as a lost race.
		t.Run("rotate-writing-unchanged-values", func(t *testing.T) {
			s := newStore(t, db)
			x := session("alice")
			if err := s.Create(ctx, x, 0); err != nil {
				t.Fatal(err)
			}
			r := store.Rotation{Old: []byte("r"), RefreshHash: []byte("r"), IdleUntil: now.Add(time.Hour), KeepSpent: 0}
			for i := range 2 {
				if err := s.Rotate(ctx, x.ID, r, now); err != nil {
					t.Errorf("Rotate #%d to the same values: %v", i+1, err)
				}
			}
			if err := s.Rotate(ctx, x.ID, store.Rotation{Old: make([]byte, 64), RefreshHash: []byte("n")}, now); !errors.Is(err, store.ErrConflict) {
				t.Errorf("Rotate with an over-long Old = %v, want ErrConflict", err)
			}
			if err := s.Rotate(ctx, x.ID, store.Rotation{Old: []byte("r"), RefreshHash: make([]byte, 33)}, now); !errors.Is(err, ErrInvalid) {
				t.Errorf("Rotate to an over-long hash = %v, want ErrInvalid", err)
			}
		})

		// time.Time reaches far beyond int64 milliseconds: such a time must
		// be refused, not wrapped into the past and then read as absent.
		t.Run("times-beyond-int64-milliseconds", func(t *testing.T) {
			s := newStore(t, db)
			far, past := time.Unix(1<<62, 0), time.Unix(-1<<62, 0)
			invalid := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalid) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
					t.Errorf("%s = %v, want ErrInvalid (neither ErrNotFound nor ErrConflict)", what, err)
				} else if strings.Contains(err.Error(), "secret") {
					t.Errorf("%s error names a secret: %v", what, err)
				}
			}
			for _, max := range []int{0, 2} {
				x := session("alice")
				x.SecretHash = []byte("secret")
				x.ExpiresAt = far
				invalid("Create with a far-future ExpiresAt", s.Create(ctx, x, max))
				x = session("alice")
				x.CreatedAt = past
				invalid("Create with a far-past CreatedAt", s.Create(ctx, x, max))
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); n != 0 {
				t.Errorf("%d sessions stored from refused Creates", n)
			}
			// At the very end of the range: stored and read back.
			x := session("alice")
			x.ExpiresAt = time.UnixMilli(math.MaxInt64)
			if err := s.Create(ctx, x, 2); err != nil {
				t.Fatalf("Create expiring at the last millisecond: %v", err)
			}
			if got, err := s.Get(ctx, x.ID, now); err != nil || !got.ExpiresAt.Equal(x.ExpiresAt) {
				t.Fatalf("Get = %v, %v; want ExpiresAt %v", got, err, x.ExpiresAt)
			}
			// Before 1970 is fine too.
			old := session("bob")
			old.CreatedAt = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := s.Create(ctx, old, 1); err != nil {
				t.Fatalf("Create in 1960: %v", err)
			}
			if got, err := s.Get(ctx, old.ID, now); err != nil || !got.CreatedAt.Equal(old.CreatedAt) {
				t.Fatalf("Get = %v, %v; want CreatedAt %v", got, err, old.CreatedAt)
			}
			for name, r := range map[string]store.Rotation{
				"AccessExpiresAt": {Old: []byte("r"), RefreshHash: []byte("n"), AccessExpiresAt: far},
				"FreshUntil":      {Old: []byte("r"), RefreshHash: []byte("n"), FreshUntil: past},
				"IdleUntil":       {Old: []byte("r"), RefreshHash: []byte("n"), IdleUntil: far},
			} {
				invalid("Rotate with a far "+name, s.Rotate(ctx, x.ID, r, now))
			}
			invalid("Rotate at a far now", s.Rotate(ctx, x.ID, store.Rotation{Old: []byte("r"), RefreshHash: []byte("n")}, far))
			invalid("Touch at a far now", s.Touch(ctx, x.ID, far, time.Hour, 0))
			// Nothing was written: the session still rotates from "r".
			if got, err := s.Get(ctx, x.ID, now); err != nil || string(got.RefreshHash) != "r" || !got.LastUsedAt.Equal(now) {
				t.Fatalf("after refused writes: %+v, %v", got, err)
			}
			// A far idle for Touch is capped at ExpiresAt, so it is fine.
			if err := s.Touch(ctx, x.ID, now.Add(time.Minute), time.Duration(math.MaxInt64), 0); err != nil {
				t.Errorf("Touch with a huge idle: %v", err)
			}
			// Reads compare: everything is dead at a far future, live at a
			// far past (before both IdleUntil and ExpiresAt).
			if _, err := s.Get(ctx, x.ID, far); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get at a far future = %v, want ErrNotFound", err)
			}
			if _, err := s.Get(ctx, x.ID, past); err != nil {
				t.Errorf("Get at a far past = %v, want the session", err)
			}
			if l, err := s.List(ctx, "alice", far); err != nil || len(l) != 0 {
				t.Errorf("List at a far future = %d sessions, %v", len(l), err)
			}
		})

		t.Run("capped-create-takes-no-lock-row-on-sqlite-only", func(t *testing.T) {
			s := newStore(t, db)
			if err := s.Create(ctx, session("alice"), 3); err != nil {
				t.Fatal(err)
			}
			if b.name == "sqlite" {
				return
			}
			if n := count(t, db, "SELECT logins FROM "+s.prefix+"subject_locks WHERE subject = ?", "alice"); n != 1 {
				t.Errorf("subject_locks counts %d logins of alice, want 1", n)
			}
		})
	})
}

// TestBounded: only MySQL's driver ends a call when its context is done;
// latch guards PostgreSQL and SQLite calls with a goroutine of their own.
func TestBounded(t *testing.T) {
	for d, want := range map[Dialect]bool{MySQL: true, PostgreSQL: false, SQLite: false} {
		if got := (&Store{d: d}).Bounded(); got != want {
			t.Errorf("%v: Bounded() = %v, want %v", d, got, want)
		}
	}
}
