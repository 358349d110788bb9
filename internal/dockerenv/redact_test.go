package main

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"postgres://u:s3cret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"root:pw@tcp(127.0.0.1:3306)/test", "root:xxxxx@tcp(127.0.0.1:3306)/test"},
		{"root:p@ss:w@tcp(h:3306)/test", "root:xxxxx@tcp(h:3306)/test"},
		{"root@tcp(127.0.0.1:3306)/test", "root@tcp(127.0.0.1:3306)/test"},
		{"mongodb://admin:pw@h1:27017,h2:27017/?authSource=admin", "mongodb://admin:xxxxx@h1:27017,h2:27017/?authSource=admin"},
		{`dial "postgres://a:b@h/db": refused; DSN=u:v@tcp(h)/d`, `dial "postgres://a:xxxxx@h/db": refused; DSN=u:xxxxx@tcp(h)/d`},
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
