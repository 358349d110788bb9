package adaptertest

import "testing"

// TestNormalizeBody: only non-empty token strings become "*", so an empty
// or missing token cannot pass for one.
func TestNormalizeBody(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"tokens", `{"access_token":"abc","refresh_token":"def","token_type":"Bearer"}`,
			`{"access_token":"*","refresh_token":"*","token_type":"Bearer"}` + "\n"},
		{"empty token", `{"access_token":"","refresh_token":"def"}`, `{"access_token":"","refresh_token":"*"}` + "\n"},
		{"all empty", `{"access_token":"","refresh_token":""}`, `{"access_token":"","refresh_token":""}`},
		{"not a string", `{"access_token":null,"refresh_token":42}`, `{"access_token":null,"refresh_token":42}`},
		{"no tokens", `{"msg":"Invalid request"}` + "\n", `{"msg":"Invalid request"}` + "\n"},
		{"not JSON", `late`, `late`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := normalizeBody([]byte(c.body)); got != c.want {
				t.Errorf("normalizeBody(%s) = %q, want %q", c.body, got, c.want)
			}
		})
	}
}
