package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/latchauth/latch/store"
)

func TestNewOptions(t *testing.T) {
	db := sqlx.NewDb(nil, "sqlite")
	for _, p := range []string{"", "latch_", "a", "_x", "app1_latch_", strings.Repeat("a", maxPrefixLen)} {
		if _, err := New(db, WithTablePrefix(p), WithSweepInterval(0)); err != nil {
			t.Errorf("WithTablePrefix(%q): %v", p, err)
		}
	}
	for _, p := range []string{"Latch_", "1x", "a-b", "a b", "a;drop", "é", `a"`, strings.Repeat("a", maxPrefixLen+1)} {
		if _, err := New(db, WithTablePrefix(p)); !errors.Is(err, ErrInvalid) {
			t.Errorf("WithTablePrefix(%q) = %v, want ErrInvalid", p, err)
		}
	}
	if _, err := New(db, WithSweepInterval(-time.Second)); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative interval: %v", err)
	}
	for _, d := range []string{"sqlserver", "oracle", ""} {
		if _, err := New(sqlx.NewDb(nil, d)); !errors.Is(err, ErrUnsupportedDriver) {
			t.Errorf("driver %q: %v, want ErrUnsupportedDriver", d, err)
		}
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil db: %v", err)
	}
	for name, want := range map[string]dialect{"postgres": postgres, "pgx": postgres, "mysql": mysqlDialect, "sqlite": sqlite, "sqlite3": sqlite} {
		if d, err := dialectOf(name); d != want || err != nil {
			t.Errorf("dialectOf(%s) = %v, %v", name, d, err)
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
