package opaque

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const testID = "0123456789ABCDEFabcdef"

func TestRoundTrip(t *testing.T) {
	tok, hash := New(PrefixAccess, testID)
	if len(tok) != Len || !strings.HasPrefix(tok, "lta_"+testID) {
		t.Fatalf("token %q has the wrong shape", tok)
	}
	id, got, err := Parse(tok, PrefixAccess)
	if err != nil || id != testID || !bytes.Equal(got, hash) {
		t.Fatalf("Parse = %q, %x, %v; want %q, %x, nil", id, got, err, testID, hash)
	}
	if len(hash) != 32 {
		t.Errorf("hash is %d bytes, want 32", len(hash))
	}
	if strings.Contains(tok, string(hash)) {
		t.Error("token contains its hash")
	}
	tok2, hash2 := New(PrefixAccess, testID)
	if tok == tok2 || bytes.Equal(hash, hash2) {
		t.Error("two tokens for one session share a secret")
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := New(PrefixRefresh, testID)
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name, tok string
		want      error
	}{
		{"empty", "", ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"padded", good + "=", ErrMalformed},
		{"padded base62", good + "0", ErrMalformed},
		{"other type", "lta_" + good[4:], ErrWrongType},
		{"unknown prefix", "ghp_" + good[4:], ErrMalformed},
		{"non base62", good[:10] + "-" + good[11:], ErrMalformed},
		{"non ascii", good[:10] + "é" + good[12:], ErrMalformed},
		{"id changed", flip(5), ErrChecksum},
		{"secret changed", flip(40), ErrChecksum},
		{"checksum changed", flip(len(good) - 1), ErrChecksum},
		{"dots", strings.Repeat(".", Len), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, hash, err := Parse(c.tok, PrefixRefresh)
			if !errors.Is(err, c.want) || id != "" || hash != nil {
				t.Errorf("Parse = %q, %x, %v; want error %v", id, hash, err, c.want)
			}
		})
	}
}

func TestNewOpaquePanicsOnBadID(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Format accepted a malformed session id")
		}
	}()
	New(PrefixAccess, "short")
}

func FuzzParseOpaque(f *testing.F) {
	good, _ := New(PrefixAccess, testID)
	f.Add(good)
	f.Add("lta_")
	f.Add(strings.Repeat("A", Len))
	f.Add("ltr_" + good[4:])
	f.Fuzz(func(t *testing.T, tok string) {
		id, hash, err := Parse(tok, PrefixAccess)
		if err != nil {
			if id != "" || hash != nil {
				t.Fatalf("error %v came with a result", err)
			}
			return
		}
		// Anything accepted has the exact shape and a matching checksum:
		// re-encoding its parts gives the same string back.
		if len(tok) != Len || tok[:4] != PrefixAccess || id != tok[4:26] || len(hash) != 32 {
			t.Fatalf("accepted %q with id %q", tok, id)
		}
	})
}

func BenchmarkParseOpaque(b *testing.B) {
	tok, _ := New(PrefixAccess, testID)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(tok, PrefixAccess); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDerive: a successor is a function of key, label, session id and
// spent secret alone, has the shape of a drawn secret, and changes with
// each of them.
func TestDerive(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	spent, _ := NewSecret()
	s, h := Derive(key, "latch/refresh", testID, spent)
	if again, h2 := Derive(key, "latch/refresh", testID, spent); again != s || !bytes.Equal(h2, h) {
		t.Fatal("Derive is not deterministic")
	}
	if !bytes.Equal(h, HashSecret(s)) {
		t.Error("the hash is not the secret's SHA-256")
	}
	tok := Format(PrefixRefresh, testID, s) // panics on a wrong shape
	if _, got, err := Parse(tok, PrefixRefresh); err != nil || !bytes.Equal(got, h) || SecretOf(tok) != s {
		t.Errorf("a derived secret does not round-trip: %v", err)
	}
	next, _ := NewSecret()
	for name, d := range map[string]string{
		"another key":     func() string { s, _ := Derive(other, "latch/refresh", testID, spent); return s }(),
		"another label":   func() string { s, _ := Derive(key, "latch/access", testID, spent); return s }(),
		"another session": func() string { s, _ := Derive(key, "latch/refresh", "ABCDEFabcdef0123456789", spent); return s }(),
		"another secret":  func() string { s, _ := Derive(key, "latch/refresh", testID, next); return s }(),
		"the spent one":   spent,
	} {
		if d == s {
			t.Errorf("%s gives the same successor", name)
		}
	}
}
