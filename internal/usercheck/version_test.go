package main

import (
	"strings"
	"testing"
)

func TestReleaseVersion(t *testing.T) {
	nested := func(path, requires string) string {
		return "module " + path + "\n\ngo 1.26\n\nrequire (\n" + requires + ")\n\nreplace " + corePath + " => ../..\n"
	}
	published := []mod{{corePath, "."}, {sqlstorePath, "store/sqlstore"}, {corePath + "/adapters/latchgin", "adapters/latchgin"}}
	tests := []struct {
		name, sql, gin string
		want, err      string
	}{
		{"agree", "\t" + corePath + " v0.1.0\n\tgithub.com/lib/pq v1.12.3\n", "\t" + corePath + " v0.1.0\n", "v0.1.0", ""},
		{"next release", "\t" + corePath + " v0.2.0\n", "\t" + corePath + " v0.2.0\n\t" + sqlstorePath + " v0.2.0\n", "v0.2.0", ""},
		{"one left behind", "\t" + corePath + " v0.2.0\n", "\t" + corePath + " v0.1.0\n", "",
			"different versions; one release needs one:\n\tv0.1.0: " + corePath + "/adapters/latchgin requires " + corePath +
				"\n\tv0.2.0: " + sqlstorePath + " requires " + corePath},
		{"development placeholder", "\t" + corePath + " v0.0.0\n", "\t" + corePath + " v0.0.0\n", "", "at v0.0.0, which is no release version"},
		{"pseudo-version", "\t" + corePath + " v0.1.1-0.20261201000000-abcdefabcdef\n", "\t" + corePath + " v0.1.1-0.20261201000000-abcdefabcdef\n", "", "which is no release version"},
		{"none", "\tgithub.com/lib/pq v1.12.3\n", "\tgithub.com/gin-gonic/gin v1.12.0\n", "", "no published module requires a latch module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, map[string]string{
				"go.mod":                   "module " + corePath + "\n\ngo 1.26\n\nrequire github.com/golang-jwt/jwt/v5 v5.3.1\n",
				"store/sqlstore/go.mod":    nested(sqlstorePath, tt.sql),
				"adapters/latchgin/go.mod": nested(corePath+"/adapters/latchgin", tt.gin),
			})
			got, err := releaseVersion(root, published)
			if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("releaseVersion = %q, %v; want %q, an error containing %q", got, err, tt.want, tt.err)
			}
		})
	}
}
