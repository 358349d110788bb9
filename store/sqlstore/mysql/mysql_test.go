package mysql

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/latchauth/latch/store/sqlstore"
)

func TestConfig(t *testing.T) {
	u, _ := url.Parse("mysql://app:p%40ss%3Aw0rd@db.example:3307/latch?tls=skip-verify&timeout=5s&parseTime=true")
	cfg, err := config(u)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "app" || cfg.Passwd != "p@ss:w0rd" || cfg.Net != "tcp" || cfg.Addr != "db.example:3307" ||
		cfg.DBName != "latch" || cfg.Timeout != 5*time.Second || cfg.TLSConfig != "skip-verify" {
		t.Errorf("config = %+v", cfg)
	}
	if !cfg.InterpolateParams {
		t.Errorf("config: InterpolateParams off by default, want on (one round trip per query)")
	}
	u, _ = url.Parse("mysql://root@host/latch?interpolateParams=false")
	if cfg, err := config(u); err != nil || cfg.InterpolateParams {
		t.Errorf("config with interpolateParams=false = %+v, %v; want it off", cfg, err)
	}
	u, _ = url.Parse("mysql://root@[::1]/latch")
	if cfg, err := config(u); err != nil || cfg.Addr != "[::1]:3306" || cfg.Passwd != "" {
		t.Errorf("config without port = %+v, %v; want [::1]:3306", cfg, err)
	}
	for _, bad := range []string{"mysql://root@host", "mysql://root@host/", "mysql://root@host/a/b", "mysql:root@host/db", "mysql://root@host/db?timeout=soon"} {
		u, _ := url.Parse(bad)
		if _, err := config(u); !errors.Is(err, sqlstore.ErrInvalid) {
			t.Errorf("config(%s) = %v, want sqlstore.ErrInvalid", bad, err)
		}
	}
}
