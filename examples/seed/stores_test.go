package main

import (
	"os/exec"
	"strings"
	"testing"

	// The tests reach every store (TestSignalDuringStartup); the program
	// links the networked ones only with -tags stores (stores.go).
	_ "github.com/latchauth/latch/store/mongostore"
	_ "github.com/latchauth/latch/store/redisstore"
	_ "github.com/latchauth/latch/store/sqlstore/mysql"
	_ "github.com/latchauth/latch/store/sqlstore/postgres"
)

// TestStoresTag: a plain build of the seed links the embedded SQLite store
// and none of the networked ones, so the README's first command builds as
// little as it can; -tags stores links them all.
func TestStoresTag(t *testing.T) {
	networked := []string{
		"github.com/latchauth/latch/store/mongostore",
		"github.com/latchauth/latch/store/redisstore",
		"github.com/latchauth/latch/store/sqlstore/mysql",
		"github.com/latchauth/latch/store/sqlstore/postgres",
	}
	deps := func(tags ...string) string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return "\n" + string(out)
	}
	plain, tagged := deps(), deps("-tags", "stores")
	if !strings.Contains(plain, "\ngithub.com/latchauth/latch/store/sqlstore/sqlite\n") {
		t.Error("a plain build does not link the SQLite store")
	}
	for _, p := range networked {
		if strings.Contains(plain, "\n"+p+"\n") {
			t.Errorf("a plain build links %s", p)
		}
		if !strings.Contains(tagged, "\n"+p+"\n") {
			t.Errorf("-tags stores does not link %s", p)
		}
	}
}
