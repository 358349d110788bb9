package walkthroughtest

import (
	"net/http"
	"testing"
)

// TestMask: only non-empty strings are masked, so an empty or missing
// token cannot pass for the transcript's "*".
func TestMask(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"tokens", `{"access_token":"abc","refresh_token":"def","token_type":"Bearer"}`,
			`body: {"access_token":"*","refresh_token":"*","token_type":"Bearer"} (masked)` + "\n"},
		{"empty token", `{"access_token":"","token_type":"Bearer"}`, `body: {"access_token":"","token_type":"Bearer"}`},
		{"null token", `{"access_token":null}`, `body: {"access_token":null}`},
		{"number id", `{"sessions":[{"id":7}]}`, `body: {"sessions":[{"id":7}]}`},
		{"one empty, one not", `{"access_token":"","refresh_token":"def"}`,
			`body: {"access_token":"","refresh_token":"*"} (masked)` + "\n"},
		{"nested ids", `{"sessions":[{"id":"s1"},{"id":""}]}`, `body: {"sessions":[{"id":"*"},{"id":""}]} (masked)` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := normalize(&answer{status: 200, header: http.Header{}, body: []byte(c.body)})
			if want := "status: 200\n" + c.want; got != want {
				t.Errorf("normalize(%s) =\n%s\nwant\n%s", c.body, got, want)
			}
		})
	}
}
