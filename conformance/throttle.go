package conformance

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// The rules of store.Throttle, run on stores that implement it. Login
// throttling counts failures with it: a record that grows wrongly locks
// users out, one that does not grow lets a password guesser through.
var throttleRules = []rule{
	{"throttle-counts-strikes", needsThrottle, throttleCounts},
	{"throttle-expired-record-restarts", needsThrottle, throttleExpiry},
	{"throttle-last-never-moves-backwards", needsThrottle, throttleLast},
	{"throttle-strikes-in-key-order", needsThrottle, throttleOrder},
	{"throttle-clear-strikes", needsThrottle, throttleClear},
	{"throttle-keys-isolated", needsThrottle, throttleIsolated},
	{"throttle-atomic-across-instances", needsThrottle, throttleAtomic},
	{"throttle-invalid-keys-refused", needsThrottle, throttleInvalid},
}

// strikeTTL is the ttl the rules pass unless they say otherwise.
const strikeTTL = 15 * time.Minute

func (h *harness) addStrike(t *testing.T, key string, now time.Time, ttl time.Duration) store.Strikes {
	t.Helper()
	r, err := h.th.AddStrike(h.ctx, key, now, ttl)
	if err != nil {
		t.Fatalf("AddStrike(%q) at %s: %v", key, h.rel(now), err)
	}
	return r
}

func (h *harness) strikes(t *testing.T, keys []string, now time.Time) []store.Strikes {
	t.Helper()
	l, err := h.th.Strikes(h.ctx, keys, now)
	if err != nil {
		t.Fatalf("Strikes of %d key(s) at %s: %v", len(keys), h.rel(now), err)
	}
	if len(l) != len(keys) {
		t.Fatalf("Strikes of %d key(s) returned %d records, want one per key", len(keys), len(l))
	}
	return l
}

func (h *harness) clearStrikes(t *testing.T, keys ...string) {
	t.Helper()
	if err := h.th.ClearStrikes(h.ctx, keys); err != nil {
		t.Fatalf("ClearStrikes of %d key(s): %v", len(keys), err)
	}
}

// sameStrikes compares Count exactly and Last to the millisecond; the
// zero Strikes must come back zero.
func sameStrikes(t *testing.T, what string, got, want store.Strikes) {
	t.Helper()
	if got.Count != want.Count {
		t.Errorf("%s: Count = %d, want %d", what, got.Count, want.Count)
	}
	sameTime(t, what+": Last", got.Last, want.Last)
}

// throttleCounts: each failure counts one, and the record reads back as
// AddStrike returned it.
func throttleCounts(t *testing.T, h *harness) {
	const key = "user:alice"
	var at time.Time
	for i := 1; i <= 5; i++ {
		at = h.clock.Advance(time.Second)
		want := store.Strikes{Count: i, Last: at}
		sameStrikes(t, fmt.Sprintf("AddStrike #%d", i), h.addStrike(t, key, at, strikeTTL), want)
		sameStrikes(t, fmt.Sprintf("Strikes after AddStrike #%d", i), h.strikes(t, []string{key}, at)[0], want)
	}
	sameStrikes(t, "Strikes a millisecond before Last+ttl", h.strikes(t, []string{key}, at.Add(strikeTTL-time.Millisecond))[0], store.Strikes{Count: 5, Last: at})
}

// throttleExpiry: a record expires at Last+ttl, when it reads as zero and
// the next failure starts it again at 1.
func throttleExpiry(t *testing.T, h *harness) {
	const key = "ip:192.0.2.7"
	start := h.clock.Now()
	h.addStrike(t, key, start, 10*time.Minute)
	second := start.Add(8 * time.Minute)
	sameStrikes(t, "AddStrike 8 minutes later", h.addStrike(t, key, second, 10*time.Minute), store.Strikes{Count: 2, Last: second})

	end := second.Add(10 * time.Minute) // Last+ttl
	sameStrikes(t, "Strikes a millisecond before Last+ttl", h.strikes(t, []string{key}, end.Add(-time.Millisecond))[0], store.Strikes{Count: 2, Last: second})
	sameStrikes(t, "Strikes at Last+ttl", h.strikes(t, []string{key}, end)[0], store.Strikes{})
	h.clock.Advance(end.Sub(h.clock.Now()))
	sameStrikes(t, "AddStrike at Last+ttl", h.addStrike(t, key, end, 10*time.Minute), store.Strikes{Count: 1, Last: end})
	later := end.Add(time.Hour)
	sameStrikes(t, "AddStrike long after", h.addStrike(t, key, later, 10*time.Minute), store.Strikes{Count: 1, Last: later})
	sameStrikes(t, "Strikes after the restarts", h.strikes(t, []string{key}, later)[0], store.Strikes{Count: 1, Last: later})
}

// throttleLast: failures reported by instances whose clocks differ a
// little still count, but Last keeps the latest, and the record expires
// at the latest Last+ttl.
func throttleLast(t *testing.T, h *harness) {
	const key = "user:alice"
	start := h.clock.Now()
	late, early := start.Add(10*time.Second), start.Add(5*time.Second)
	h.addStrike(t, key, late, strikeTTL)
	sameStrikes(t, "AddStrike with an earlier now", h.addStrike(t, key, early, strikeTTL), store.Strikes{Count: 2, Last: late})
	sameStrikes(t, "Strikes at the earlier now", h.strikes(t, []string{key}, early)[0], store.Strikes{Count: 2, Last: late})
	end := late.Add(strikeTTL)
	sameStrikes(t, "Strikes a millisecond before the later Last+ttl", h.strikes(t, []string{key}, end.Add(-time.Millisecond))[0], store.Strikes{Count: 2, Last: late})
	sameStrikes(t, "Strikes at the later Last+ttl", h.strikes(t, []string{key}, end)[0], store.Strikes{})
}

// throttleOrder: Strikes answers one record per key, in the order of the
// keys, repeats included; absent and expired keys read as zero.
func throttleOrder(t *testing.T, h *harness) {
	start := h.clock.Now()
	for range 3 {
		h.addStrike(t, "a", start, strikeTTL)
	}
	h.addStrike(t, "b", start, strikeTTL)
	h.addStrike(t, "expired", start, time.Second)
	at := h.clock.Advance(time.Minute)
	a, b := store.Strikes{Count: 3, Last: start}, store.Strikes{Count: 1, Last: start}
	keys := []string{"absent", "a", "expired", "b", "a"}
	want := []store.Strikes{{}, a, {}, b, a}
	for i, got := range h.strikes(t, keys, at) {
		sameStrikes(t, fmt.Sprintf("Strikes(%q)[%d] (%s)", keys, i, keys[i]), got, want[i])
	}
	for _, keys := range [][]string{nil, {}} {
		if l, err := h.th.Strikes(h.ctx, keys, at); err != nil || len(l) != 0 {
			t.Errorf("Strikes of no keys (%#v) = %v, %v; want no records, nil", keys, l, err)
		}
	}

	// Many keys at once, most absent, come back in order.
	keys, want = nil, nil
	for i := range 100 {
		k := fmt.Sprintf("k%03d", 99-i)
		keys = append(keys, k)
		if i%3 == 0 {
			for range i%5 + 1 {
				h.addStrike(t, k, at, strikeTTL)
			}
			want = append(want, store.Strikes{Count: i%5 + 1, Last: at})
		} else {
			want = append(want, store.Strikes{})
		}
	}
	for i, got := range h.strikes(t, keys, at) {
		sameStrikes(t, fmt.Sprintf("Strikes of 100 keys: [%d] (%s)", i, keys[i]), got, want[i])
	}
}

// throttleClear: ClearStrikes deletes the records of the keys given and
// no other; absent keys and no keys are no error.
func throttleClear(t *testing.T, h *harness) {
	at := h.clock.Now()
	for _, k := range []string{"a", "b", "c"} {
		h.addStrike(t, k, at, strikeTTL)
		h.addStrike(t, k, at, strikeTTL)
	}
	h.clearStrikes(t, "a", "absent", "c")
	got := h.strikes(t, []string{"a", "b", "c"}, at)
	sameStrikes(t, "a cleared key", got[0], store.Strikes{})
	sameStrikes(t, "a key not cleared", got[1], store.Strikes{Count: 2, Last: at})
	sameStrikes(t, "another cleared key", got[2], store.Strikes{})
	h.clearStrikes(t)
	h.clearStrikes(t, "absent")
	h.clearStrikes(t, "a", "a")
	sameStrikes(t, "AddStrike after ClearStrikes", h.addStrike(t, "a", at, strikeTTL), store.Strikes{Count: 1, Last: at})
	sameStrikes(t, "the key not cleared, at the end", h.strikes(t, []string{"b"}, at)[0], store.Strikes{Count: 2, Last: at})
}

// throttleIsolated: keys that differ in case, a trailing space, a prefix
// or a wildcard count apart, and strike records and sessions never meet,
// even where a key is a session id or a subject.
func throttleIsolated(t *testing.T, h *harness) {
	at := h.clock.Now()
	keys := []string{
		"user:alice", "user:Alice", "USER:ALICE", "user:alice ", " user:alice", "user:alic", "user:alice:x",
		"ip:192.0.2.1", "ip:192.0.2.10", "ip:2001:db8::1",
		"*", "?", "%", "_", "user:*", "user:%", "user:_lice", "[a]", "{user:alice}", `"user:alice"`,
		"' OR '1'='1", "x'); DROP TABLE strikes; --", `back\slash`, "~!@#$%^&*()+=", " ",
		strings.Repeat("k", store.MaxStrikeKeyLen), strings.Repeat("k", store.MaxStrikeKeyLen-1),
	}
	for i, k := range keys {
		for range i + 1 {
			h.addStrike(t, k, at, strikeTTL)
		}
	}
	check := func(why string, cleared int) {
		t.Helper()
		for i, got := range h.strikes(t, keys, at) {
			want := store.Strikes{Count: i + 1, Last: at}
			if i == cleared {
				want = store.Strikes{}
			}
			sameStrikes(t, fmt.Sprintf("%s: key %q", why, keys[i]), got, want)
		}
	}
	check("each key counted apart", -1)
	h.clearStrikes(t, "user:alice")
	check("after ClearStrikes(user:alice)", 0)

	// A session and the strikes on its id and subject.
	s := newSession("user:bob", at)
	id := h.create(t, s, 0)
	want := *s
	h.addStrike(t, id, at, strikeTTL)
	h.addStrike(t, s.Subject, at, strikeTTL)
	sameSession(t, "a session after strikes on its id and subject", h.get(t, id, at), &want)
	sameStrikes(t, "strikes on a session id", h.strikes(t, []string{id}, at)[0], store.Strikes{Count: 1, Last: at})
	h.clearStrikes(t, id, s.Subject)
	sameSession(t, "a session after ClearStrikes of its id and subject", h.get(t, id, at), &want)
	h.addStrike(t, id, at, strikeTTL)
	if err := h.s.Revoke(h.ctx, s.Subject, id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := h.s.RevokeSubject(h.ctx, s.Subject, ""); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	sameStrikes(t, "strikes on a session id after its session was revoked", h.strikes(t, []string{id}, at)[0], store.Strikes{Count: 1, Last: at})
	check("the other keys at the end", 0)
}

// throttleAtomic: failures reported at once from many goroutines over two
// store values (see WithTwin) all count: N AddStrikes make Count N, and
// each returns a distinct count, 1 to N. A store that reads the record
// and writes it back loses some. Each round races on a key of its own.
func throttleAtomic(t *testing.T, h *harness) {
	const workers, each = 16, 8
	const n = workers * each
	twin := h.th
	if h.opts.twin == nil {
		t.Log("no WithTwin: the racers share one store value")
	} else {
		other, ok := h.opts.twin(t, h.s).(store.Throttle)
		if !ok {
			t.Fatal("WithTwin returned a store that does not implement store.Throttle")
		}
		twin = other
	}
	instances := []store.Throttle{h.th, twin}
	start := h.clock.Now()
	rounds(t, 1, func(round int) bool {
		key := fmt.Sprintf("race:%d", round)
		counts := make([]int, n)
		spans := make([][]span, workers)
		begin := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				<-begin
				th := instances[w%2]
				for j := range each {
					i := w*each + j
					at := start.Add(time.Duration(i%each) * time.Millisecond)
					var r store.Strikes
					var err error
					spans[w] = append(spans[w], timed(func() { r, err = th.AddStrike(h.ctx, key, at, strikeTTL) }))
					if err != nil {
						t.Errorf("round %d: AddStrike during the race: %v", round, err)
						return
					}
					counts[i] = r.Count
				}
			})
		}
		close(begin)
		wg.Wait()
		if t.Failed() {
			return false
		}
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("round %d: %d concurrent AddStrikes returned counts %v, want each of 1 to %d once: strikes were lost", round, n, counts, n)
			}
		}
		last := start.Add((each - 1) * time.Millisecond)
		for i, th := range instances {
			l, err := th.Strikes(h.ctx, []string{key}, last)
			if err != nil || len(l) != 1 {
				t.Fatalf("round %d: Strikes on store value %d = %v, %v", round, i+1, l, err)
			}
			sameStrikes(t, fmt.Sprintf("round %d: Strikes on store value %d after %d concurrent AddStrikes", round, i+1, n), l[0], store.Strikes{Count: n, Last: last})
		}
		return together(slices.Concat(spans...))
	})
}

// throttleInvalid: an empty key, one longer than store.MaxStrikeKeyLen,
// and one with a byte that is not printable ASCII are refused with an
// error, by every method, and change nothing: a store that truncated or
// folded them could merge two buckets.
func throttleInvalid(t *testing.T, h *harness) {
	at := h.clock.Now()
	long := strings.Repeat("k", store.MaxStrikeKeyLen)
	h.addStrike(t, "ok", at, strikeTTL)
	h.addStrike(t, "ok", at, strikeTTL)
	h.addStrike(t, long, at, strikeTTL)
	bad := []string{"", long + "k", long + "é", "a\x00b", "a\nb", "tab\tx", "del\x7f", "é", "日本", "\xff", "ok\x00"}
	for _, k := range bad {
		if r, err := h.th.AddStrike(h.ctx, k, at, strikeTTL); err == nil || r != (store.Strikes{}) {
			t.Errorf("AddStrike(%q) = %+v, %v; want the zero Strikes and an error", k, r, err)
		}
		if l, err := h.th.Strikes(h.ctx, []string{"ok", k}, at); err == nil || l != nil {
			t.Errorf("Strikes([ok %q]) = %v, %v; want nil and an error", k, l, err)
		}
		if err := h.th.ClearStrikes(h.ctx, []string{"ok", k, long}); err == nil {
			t.Errorf("ClearStrikes([ok %q ...]) succeeded, want an error", k)
		}
	}
	got := h.strikes(t, []string{"ok", long}, at)
	sameStrikes(t, "a valid key after calls refused for keys beside it", got[0], store.Strikes{Count: 2, Last: at})
	sameStrikes(t, "the longest valid key after calls refused for longer keys", got[1], store.Strikes{Count: 1, Last: at})
}
