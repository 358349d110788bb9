package postgres

import (
	"net/url"
	"testing"
)

func TestDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@db/latch?sslmode=verify-full":                "binary_parameters=yes&sslmode=verify-full",
		"postgres://u@db/latch":                                      "binary_parameters=yes",
		"postgres://u@db/latch?binary_parameters=no&sslmode=disable": "binary_parameters=no&sslmode=disable",
	} {
		u, _ := url.Parse(in)
		got, _ := url.Parse(dsn(u))
		if got.RawQuery != want || got.Host != "db" || got.User.String() != u.User.String() {
			t.Errorf("dsn(%s) = %s, want the query %s", in, got, want)
		}
	}
}
