package walkthrough

import (
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"sync"
)

// User is an account of the walkthrough. Its JSON form is what /who_am_i
// answers; the password and the administrator flag never leave the server.
type User struct {
	ID       int    `json:"id"`
	FullName string `json:"full_name"`
	Username string `json:"username"`
	Admin    bool   `json:"-"`
	password string
}

// Subject is the user's identity in tokens: its id in decimal.
func (u *User) Subject() string { return strconv.Itoa(u.ID) }

// seedUsers returns the walkthrough's accounts. Each password is the
// username, as in the tutorial: a real application keeps a slow, salted
// hash (argon2id, bcrypt) instead.
func seedUsers() []*User {
	return []*User{
		{ID: 1, FullName: "Test User", Username: "test", password: "test"},
		{ID: 2, FullName: "Bruce Wayne", Username: "batman", password: "batman", Admin: true},
	}
}

// UserTable is the application's user database: safe for concurrent use,
// one per app, so a test can change it while the server runs.
type UserTable struct {
	mu     sync.RWMutex
	byName map[string]*User
	byID   map[string]*User
}

func newUserTable(users ...*User) *UserTable {
	t := &UserTable{byName: map[string]*User{}, byID: map[string]*User{}}
	for _, u := range users {
		t.add(u)
	}
	return t
}

// Add inserts u with password, as if the account were created while the
// server runs. It replaces whole any user with u's id and any user with
// u's name: neither can be found, or log in, under its old id or name.
func (t *UserTable) Add(u *User, password string) {
	u.password = password
	t.add(u)
}

func (t *UserTable) add(u *User) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, old := range []*User{t.byID[u.Subject()], t.byName[u.Username]} {
		if old != nil {
			delete(t.byName, old.Username)
			delete(t.byID, old.Subject())
		}
	}
	t.byName[u.Username] = u
	t.byID[u.Subject()] = u
}

// Remove deletes the user whose subject is id, as if the account were
// deleted while its tokens are still out there.
func (t *UserTable) Remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u := t.byID[id]; u != nil {
		delete(t.byName, u.Username)
		delete(t.byID, id)
	}
}

// Get returns the user whose subject is id, or nil.
func (t *UserTable) Get(id string) *User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.byID[id]
}

// Authenticate returns the user with these credentials, or nil. It does
// the same work for an unknown username as for a wrong password.
func (t *UserTable) Authenticate(username, password string) *User {
	t.mu.RLock()
	u := t.byName[username]
	t.mu.RUnlock()
	want := "\x00no such user"
	if u != nil {
		want = u.password
	}
	if !passwordsEqual(password, want) || u == nil {
		return nil
	}
	return u
}

// passwordsEqual compares two passwords in constant time: hashing both
// first makes the comparison independent of their lengths too.
func passwordsEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
