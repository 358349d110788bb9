package conformance

import (
	"slices"
	"testing"

	"github.com/latchauth/latch/store"
)

var revokeRules = []rule{
	{"revoke-deletes-one-session", plain, revokeOne},
	{"revoke-is-idempotent", plain, revokeIdempotent},
	{"revoke-needs-the-owning-subject", plain, revokeNeedsSubject},
	{"revoke-subject-deletes-all", plain, revokeSubjectAll},
	{"revoke-subject-keeps-one", plain, revokeSubjectKeep},
}

// seed creates n sessions for each subject and returns their ids by
// subject.
func (h *harness) seed(t *testing.T, n int, subjects ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, sub := range subjects {
		for range n {
			out[sub] = append(out[sub], h.create(t, newSession(sub, h.clock.Now()), 0))
		}
	}
	return out
}

// hasExactly asserts that subject's live sessions are exactly want.
func (h *harness) hasExactly(t *testing.T, subject string, want []string, why string) {
	t.Helper()
	got := ids(h.list(t, subject, h.clock.Now()))
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: subject %q has sessions %v, want %v", why, clip(subject), got, want)
	}
	for _, id := range want {
		h.get(t, id, h.clock.Now())
	}
}

func revokeOne(t *testing.T, h *harness) {
	m := h.seed(t, 3, "alice", "bob")
	if err := h.s.Revoke(h.ctx, "alice", m["alice"][1]); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	h.absent(t, m["alice"][1], h.clock.Now(), "a revoked session")
	h.hasExactly(t, "alice", []string{m["alice"][0], m["alice"][2]}, "after revoking one")
	h.hasExactly(t, "bob", m["bob"], "another subject after revoking one of alice's")
}

func revokeIdempotent(t *testing.T, h *harness) {
	m := h.seed(t, 2, "alice")
	for i := range 3 {
		if err := h.s.Revoke(h.ctx, "alice", m["alice"][0]); err != nil {
			t.Fatalf("Revoke #%d of the same session: %v", i+1, err)
		}
	}
	for _, id := range []string{store.NewID(), "", "not an id"} {
		if err := h.s.Revoke(h.ctx, "alice", id); err != nil {
			t.Errorf("Revoke(%q) of an absent session: %v, want nil", id, err)
		}
	}
	if err := h.s.Revoke(h.ctx, "nobody", store.NewID()); err != nil {
		t.Errorf("Revoke for a subject with no sessions: %v, want nil", err)
	}
	h.hasExactly(t, "alice", m["alice"][1:], "after repeated revokes")
}

// revokeNeedsSubject: a user who learns another user's session id (they
// are not secret) must not be able to end that session.
func revokeNeedsSubject(t *testing.T, h *harness) {
	m := h.seed(t, 2, "alice", "Alice", "alice ", "alic", "bob")
	victim := m["alice"][0]
	for _, sub := range []string{"bob", "Alice", "alice ", "alic", "ALICE", "", "%", "_lice"} {
		if err := h.s.Revoke(h.ctx, sub, victim); err != nil {
			t.Errorf("Revoke by subject %q of alice's session: %v, want nil (and no effect)", sub, err)
		}
	}
	for sub, want := range m {
		h.hasExactly(t, sub, want, "after revokes naming the wrong subject")
	}
}

func revokeSubjectAll(t *testing.T, h *harness) {
	m := h.seed(t, 3, "alice", "bob", "alice2", "Alice")
	n, err := h.s.RevokeSubject(h.ctx, "alice", "")
	if err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	if n != 3 {
		t.Errorf("RevokeSubject deleted %d sessions, want 3", n)
	}
	h.hasExactly(t, "alice", nil, "after RevokeSubject")
	for _, id := range m["alice"] {
		h.absent(t, id, h.clock.Now(), "after RevokeSubject")
	}
	for _, sub := range []string{"bob", "alice2", "Alice"} {
		h.hasExactly(t, sub, m[sub], "another subject after RevokeSubject(alice)")
	}
	n, err = h.s.RevokeSubject(h.ctx, "alice", "")
	if err != nil || n != 0 {
		t.Errorf("second RevokeSubject = %d, %v; want 0, nil", n, err)
	}
	n, err = h.s.RevokeSubject(h.ctx, "nobody", "")
	if err != nil || n != 0 {
		t.Errorf("RevokeSubject of a subject with no sessions = %d, %v; want 0, nil", n, err)
	}
}

func revokeSubjectKeep(t *testing.T, h *harness) {
	m := h.seed(t, 3, "alice", "bob")
	keep := m["alice"][1]
	n, err := h.s.RevokeSubject(h.ctx, "alice", keep)
	if err != nil {
		t.Fatalf("RevokeSubject keeping one: %v", err)
	}
	if n != 2 {
		t.Errorf("RevokeSubject keeping one deleted %d sessions, want 2", n)
	}
	h.hasExactly(t, "alice", []string{keep}, "after RevokeSubject keeping one")

	// keep naming another subject's session keeps nothing of alice's and
	// leaves bob alone.
	h.seed(t, 2, "alice")
	n, err = h.s.RevokeSubject(h.ctx, "alice", m["bob"][0])
	if err != nil {
		t.Fatalf("RevokeSubject keeping another subject's session: %v", err)
	}
	if n != 3 {
		t.Errorf("RevokeSubject keeping another subject's session deleted %d, want 3", n)
	}
	h.hasExactly(t, "alice", nil, "after RevokeSubject keeping another subject's session")
	h.hasExactly(t, "bob", m["bob"], "bob after RevokeSubject(alice)")
}
