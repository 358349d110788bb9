package walkthrough

import "testing"

func TestPasswords(t *testing.T) {
	users := newUserTable(seedUsers()...)
	cases := []struct {
		name, username, password string
		wantID                   int // 0: refused
	}{
		{"test", "test", "test", 1},
		{"batman", "batman", "batman", 2},
		{"wrong password", "test", "batman", 0},
		{"prefix of the password", "test", "tes", 0},
		{"password with a suffix", "test", "test\x00", 0},
		{"unknown user", "robin", "robin", 0},
		{"unknown user with the dummy password", "robin", "\x00no such user", 0},
		{"empty", "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := users.Authenticate(c.username, c.password)
			switch {
			case c.wantID == 0 && u != nil:
				t.Errorf("accepted as user %d", u.ID)
			case c.wantID != 0 && (u == nil || u.ID != c.wantID):
				t.Errorf("got %+v, want user %d", u, c.wantID)
			}
		})
	}
}
