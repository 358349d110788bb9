package conformance

import (
	"os"
	"strings"
	"testing"
)

// TestRulesDocumented keeps docs/stores.md's rule table in step with the
// suite: every rule is listed there by its name.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/stores.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.name] {
			t.Errorf("rule name %s is used twice", r.name)
		}
		seen[r.name] = true
		if !strings.Contains(string(doc), "`"+r.name+"`") {
			t.Errorf("docs/stores.md does not list rule `%s`", r.name)
		}
	}
}
