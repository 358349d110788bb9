package sqlite

import (
	"errors"
	"net/url"
	"testing"

	"github.com/latchauth/latch/store/sqlstore"
)

func TestDSN(t *testing.T) {
	for _, c := range []struct {
		url, dsn string
		memory   bool
	}{
		{"sqlite:latch.db", "latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:data/latch.db", "data/latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:///var/lib/latch.db", "/var/lib/latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:my%20file.db", "my file.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite::memory:", ":memory:?_pragma=busy_timeout%285000%29", true},
		// The URL's own settings win over the defaults.
		{"sqlite:x.db?_pragma=busy_timeout(100)&_pragma=journal_mode(DELETE)", "x.db?_pragma=busy_timeout%28100%29&_pragma=journal_mode%28DELETE%29", false},
		{"sqlite:x.db?_pragma=foreign_keys(1)", "x.db?_pragma=foreign_keys%281%29&_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		dsn, memory, err := dsn(u)
		if err != nil || dsn != c.dsn || memory != c.memory {
			t.Errorf("dsn(%s) = %q, %v, %v; want %q, %v", c.url, dsn, memory, err, c.dsn, c.memory)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite://host/x.db", "sqlite:x%3F.db", "sqlite:x%00.db", "sqlite:%zz"} {
		u, err := url.Parse(bad)
		if err != nil {
			continue
		}
		if _, _, err := dsn(u); !errors.Is(err, sqlstore.ErrInvalid) {
			t.Errorf("dsn(%s) = %v, want sqlstore.ErrInvalid", bad, err)
		}
	}
}
