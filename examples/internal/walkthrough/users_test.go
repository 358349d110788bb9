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

// TestAddReplaces: re-adding replaces a user whole, so that an old name
// cannot log in and an old id finds nobody.
func TestAddReplaces(t *testing.T) {
	users := newUserTable(seedUsers()...)
	// User 1 renamed: "test" is gone.
	users.Add(&User{ID: 1, FullName: "Renamed", Username: "tester"}, "pw1")
	// The name "batman" given to a new id: user 2 is gone.
	users.Add(&User{ID: 3, FullName: "New Batman", Username: "batman"}, "pw3")
	cases := []struct {
		name, username, password string
		wantID                   int // 0: refused
	}{
		{"old name of a renamed user", "test", "test", 0},
		{"old name, new password", "test", "pw1", 0},
		{"new name", "tester", "pw1", 1},
		{"taken name, old password", "batman", "batman", 0},
		{"taken name, new password", "batman", "pw3", 3},
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
	if u := users.Get("2"); u != nil {
		t.Errorf("Get(2) = %+v, want nobody: its name went to user 3", u)
	}
	if u := users.Get("1"); u == nil || u.Username != "tester" {
		t.Errorf("Get(1) = %+v, want the renamed user", u)
	}
}
