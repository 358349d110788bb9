package token_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

func TestClaimTypes(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	hdr := jtHeader("HS256", k.ID(), nil)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name string
		body string
		want error
	}{
		{"valid", jtPayload(nil), nil},
		{"exp missing", jtPayload(map[string]any{"exp": nil}), token.ErrMalformed},
		{"exp string", jtPayload(map[string]any{"exp": "1893456000"}), token.ErrMalformed},
		{"exp string of the right time", jtPayload(map[string]any{"exp": jtJSON(jtNow.Add(time.Hour).Unix())}), token.ErrMalformed},
		{"exp 1e20", jtPayload(map[string]any{"exp": raw("1e20")}), token.ErrMalformed},
		{"exp 1e400", jtPayload(map[string]any{"exp": raw("1e400")}), token.ErrMalformed},
		{"exp negative", jtPayload(map[string]any{"exp": -1}), token.ErrMalformed},
		{"exp after 9999", jtPayload(map[string]any{"exp": 253402300800}), token.ErrMalformed},
		{"exp 9999-12-31T23:59:59Z", jtPayload(map[string]any{"exp": 253402300799}), nil},
		{"exp fractional", jtPayload(map[string]any{"exp": float64(jtNow.Unix()) + 3600.5}), nil},
		{"exp exponent", jtPayload(map[string]any{"exp": raw("1.9e9")}), nil},
		{"exp bool", jtPayload(map[string]any{"exp": true}), token.ErrMalformed},
		{"exp null", jtPayload(map[string]any{"exp": raw("null")}), token.ErrMalformed},
		{"iat string", jtPayload(map[string]any{"iat": "0"}), token.ErrMalformed},
		{"nbf object", jtPayload(map[string]any{"nbf": map[string]any{}}), token.ErrMalformed},
		{"nbf negative", jtPayload(map[string]any{"nbf": -5}), token.ErrMalformed},
		{"sub missing", jtPayload(map[string]any{"sub": nil}), token.ErrMalformed},
		{"sub empty", jtPayload(map[string]any{"sub": ""}), token.ErrMalformed},
		{"sub number", jtPayload(map[string]any{"sub": 42}), token.ErrMalformed},
		{"sub null", jtPayload(map[string]any{"sub": raw("null")}), token.ErrMalformed},
		{"jti number", jtPayload(map[string]any{"jti": 1}), token.ErrMalformed},
		{"type number", jtPayload(map[string]any{"type": 1}), token.ErrMalformed},
		{"type null", jtPayload(map[string]any{"type": raw("null")}), token.ErrMalformed},
		{"sid bool", jtPayload(map[string]any{"sid": true}), token.ErrMalformed},
		{"iss array", jtPayload(map[string]any{"iss": []string{"a"}}), token.ErrMalformed},
		{"aud number", jtPayload(map[string]any{"aud": 1}), token.ErrMalformed},
		{"aud array of numbers", jtPayload(map[string]any{"aud": []int{1}}), token.ErrMalformed},
		{"aud array with null", jtPayload(map[string]any{"aud": raw(`["a",null]`)}), token.ErrMalformed},
		{"aud string", jtPayload(map[string]any{"aud": "a"}), nil},
		{"aud array", jtPayload(map[string]any{"aud": []string{"a", "b"}}), nil},
		{"aud empty array", jtPayload(map[string]any{"aud": []string{}}), nil},
		{"fresh string", jtPayload(map[string]any{"fresh": "yes"}), token.ErrMalformed},
		{"fresh negative", jtPayload(map[string]any{"fresh": -1}), token.ErrMalformed},
		{"fresh bool", jtPayload(map[string]any{"fresh": true}), nil},
		{"fresh deadline", jtPayload(map[string]any{"fresh": jtNow.Unix()}), nil},
		{"act string", jtPayload(map[string]any{"act": "staff"}), token.ErrMalformed},
		{"act without sub", jtPayload(map[string]any{"act": map[string]any{"sid": "x"}}), token.ErrMalformed},
		{"act sub empty", jtPayload(map[string]any{"act": map[string]any{"sub": ""}}), token.ErrMalformed},
		{"act sid number", jtPayload(map[string]any{"act": map[string]any{"sub": "s", "sid": 1}}), token.ErrMalformed},
		{"act null", jtPayload(map[string]any{"act": raw("null")}), token.ErrMalformed},
		{"act sub", jtPayload(map[string]any{"act": map[string]any{"sub": "s"}}), nil},
		{"act nested", jtPayload(map[string]any{"act": map[string]any{"sub": "s", "act": map[string]any{"sub": "t"}}}), nil},
		{"claims array", "[]", token.ErrMalformed},
		{"claims null", "null", token.ErrMalformed},
		{"claims string", `"sub"`, token.ErrMalformed},
		{"claims number", "1", token.ErrMalformed},
		{"claims bad JSON", `{"sub":`, token.ErrMalformed},
		{"claims trailing data", jtPayload(nil) + "{}", token.ErrMalformed},
		{"claims empty", "", token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Verify(jtRaw(t, hdr, tt.body, jwt.SigningMethodHS256, secret), jtOpts())
			jtWantErr(t, err, tt.want)
		})
	}
}

func TestTimes(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	T := jtNow.Unix()
	at := func(d time.Duration) time.Time { return jtNow.Add(d) }
	tests := []struct {
		name   string
		claims map[string]any
		now    time.Time
		leeway time.Duration
		want   error
	}{
		{"exp a second ahead", map[string]any{"exp": T, "iat": T - 60}, at(-time.Second), 0, nil},
		{"exp now", map[string]any{"exp": T, "iat": T - 60}, at(0), 0, token.ErrExpired},
		{"exp a second ago", map[string]any{"exp": T, "iat": T - 60}, at(time.Second), 0, token.ErrExpired},
		{"exp within leeway", map[string]any{"exp": T, "iat": T - 60}, at(9 * time.Second), 10 * time.Second, nil},
		{"exp at leeway", map[string]any{"exp": T, "iat": T - 60}, at(10 * time.Second), 10 * time.Second, token.ErrExpired},
		{"nbf now", map[string]any{"nbf": T, "iat": nil}, at(0), 0, nil},
		{"nbf a second ahead", map[string]any{"nbf": T, "iat": nil}, at(-time.Second), 0, token.ErrNotYetValid},
		{"nbf at leeway", map[string]any{"nbf": T, "iat": nil}, at(-10 * time.Second), 10 * time.Second, nil},
		{"nbf past leeway", map[string]any{"nbf": T, "iat": nil}, at(-11 * time.Second), 10 * time.Second, token.ErrNotYetValid},
		{"iat now", map[string]any{"iat": T}, at(0), 0, nil},
		{"iat a second ahead", map[string]any{"iat": T}, at(-time.Second), 0, token.ErrNotYetValid},
		{"iat at leeway", map[string]any{"iat": T}, at(-10 * time.Second), 10 * time.Second, nil},
		{"iat past leeway", map[string]any{"iat": T}, at(-11 * time.Second), 10 * time.Second, token.ErrNotYetValid},
		{"no iat or nbf", map[string]any{"iat": nil}, at(0), 0, nil},
		{"expired and not yet valid", map[string]any{"exp": T - 10, "nbf": T + 10, "iat": nil}, at(0), 0, token.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := jtRaw(t, jtHeader("HS256", k.ID(), nil), jtPayload(tt.claims), jwt.SigningMethodHS256, secret)
			_, err := r.Verify(tok, token.VerifyOptions{Now: tt.now, Leeway: tt.leeway})
			jtWantErr(t, err, tt.want)
		})
	}
	t.Run("zero Now is the clock", func(t *testing.T) {
		c := jtClaims()
		c.IssuedAt, c.ExpiresAt = time.Now().Add(-time.Minute), time.Now().Add(time.Minute)
		tok, _ := r.Sign(c)
		if _, err := r.Verify(tok, token.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
		c.ExpiresAt = time.Now().Add(-time.Second)
		tok, _ = r.Sign(c)
		_, err := r.Verify(tok, token.VerifyOptions{})
		jtWantErr(t, err, token.ErrExpired)
	})
	t.Run("returned times", func(t *testing.T) {
		tok := jtRaw(t, jtHeader("HS256", k.ID(), nil), jtPayload(map[string]any{"exp": float64(T) + 60.9, "nbf": T - 5, "iat": T - 5}), jwt.SigningMethodHS256, secret)
		c, err := r.Verify(tok, jtOpts())
		if err != nil {
			t.Fatal(err)
		}
		if !c.ExpiresAt.Equal(jtNow.Add(time.Minute)) || c.ExpiresAt.Location() != time.UTC {
			t.Errorf("ExpiresAt = %v, want %v UTC", c.ExpiresAt, jtNow.Add(time.Minute))
		}
		if !c.NotBefore.Equal(jtNow.Add(-5*time.Second)) || !c.IssuedAt.Equal(c.NotBefore) {
			t.Errorf("NotBefore = %v, IssuedAt = %v", c.NotBefore, c.IssuedAt)
		}
	})
}

func TestIssuerAudience(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	tests := []struct {
		name   string
		claims map[string]any
		opts   token.VerifyOptions
		want   error
	}{
		{"issuer matches", map[string]any{"iss": "latch"}, token.VerifyOptions{Issuer: "latch"}, nil},
		{"issuer differs", map[string]any{"iss": "other"}, token.VerifyOptions{Issuer: "latch"}, token.ErrClaims},
		{"issuer differs in case", map[string]any{"iss": "Latch"}, token.VerifyOptions{Issuer: "latch"}, token.ErrClaims},
		{"issuer absent", nil, token.VerifyOptions{Issuer: "latch"}, token.ErrClaims},
		{"issuer empty", map[string]any{"iss": ""}, token.VerifyOptions{Issuer: "latch"}, token.ErrClaims},
		{"issuer not required", map[string]any{"iss": "anything"}, token.VerifyOptions{}, nil},
		{"audience string", map[string]any{"aud": "api"}, token.VerifyOptions{Audience: "api"}, nil},
		{"audience in array", map[string]any{"aud": []string{"web", "api"}}, token.VerifyOptions{Audience: "api"}, nil},
		{"audience not in array", map[string]any{"aud": []string{"web"}}, token.VerifyOptions{Audience: "api"}, token.ErrClaims},
		{"audience differs", map[string]any{"aud": "web"}, token.VerifyOptions{Audience: "api"}, token.ErrClaims},
		{"audience absent", nil, token.VerifyOptions{Audience: "api"}, token.ErrClaims},
		{"audience empty array", map[string]any{"aud": []string{}}, token.VerifyOptions{Audience: "api"}, token.ErrClaims},
		{"audience not required", map[string]any{"aud": "x"}, token.VerifyOptions{}, nil},
		{"both match", map[string]any{"iss": "latch", "aud": "api"}, token.VerifyOptions{Issuer: "latch", Audience: "api"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := jtRaw(t, jtHeader("HS256", k.ID(), nil), jtPayload(tt.claims), jwt.SigningMethodHS256, secret)
			tt.opts.Now = jtNow
			_, err := r.Verify(tok, tt.opts)
			jtWantErr(t, err, tt.want)
		})
	}
}

func TestFresh(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	tests := []struct {
		name       string
		fresh      bool
		until      time.Time
		wantFresh  bool
		wantUntil  time.Time
		verifyTime time.Time
	}{
		{"false", false, time.Time{}, false, time.Time{}, jtNow},
		{"true", true, time.Time{}, true, time.Time{}, jtNow},
		{"deadline ahead", false, jtNow.Add(time.Minute), true, jtNow.Add(time.Minute), jtNow},
		{"deadline now", true, jtNow, false, jtNow, jtNow},
		{"deadline passed", true, jtNow.Add(-time.Second), false, jtNow.Add(-time.Second), jtNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := jtClaims()
			c.Fresh, c.FreshUntil = tt.fresh, tt.until
			tok, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Verify(tok, token.VerifyOptions{Now: tt.verifyTime})
			if err != nil {
				t.Fatal(err)
			}
			if got.Fresh != tt.wantFresh || !got.FreshUntil.Equal(tt.wantUntil) {
				t.Errorf("Fresh = %v, FreshUntil = %v; want %v, %v", got.Fresh, got.FreshUntil, tt.wantFresh, tt.wantUntil)
			}
		})
	}
}

func TestExtraCannotOverrideReserved(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	c := jtClaims()
	c.Extra = map[string]any{
		"sub": "admin", "SUB": "admin", "Exp": 9999999999.0, "exp": 9999999999.0, "iat": 0.0,
		"nbf": 0.0, "jti": "x", "type": "refresh", "fresh": true, "sid": "x", "iss": "x",
		"aud": "x", "csrf": "x", "role": "user", "nested": map[string]any{"sub": "fine"},
	}
	tok, err := r.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Verify(tok, jtOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := jtClaims()
	want.Extra = map[string]any{"role": "user", "nested": map[string]any{"sub": "fine"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claims = %+v\nwant %+v", got, want)
	}
	if c.Extra["sub"] != "admin" {
		t.Error("Sign modified the caller's Extra")
	}
}

func TestExtraDecoding(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	body := jtPayload(map[string]any{
		"csrf": "c", "n": 1, "f": 1.5, "b": false, "z": json.RawMessage("null"),
		"o": map[string]any{"k": []any{1, "x"}}, "SUB": "other",
	})
	got, err := r.Verify(jtRaw(t, jtHeader("HS256", k.ID(), nil), body, jwt.SigningMethodHS256, secret), jtOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"csrf": "c", "n": 1.0, "f": 1.5, "b": false, "z": nil,
		"o": map[string]any{"k": []any{1.0, "x"}}, "SUB": "other",
	}
	if !reflect.DeepEqual(got.Extra, want) {
		t.Errorf("Extra = %#v\nwant %#v", got.Extra, want)
	}
	if got.Subject != "user-1" {
		t.Errorf("Subject = %q", got.Subject)
	}
	got, _ = r.Verify(jtRaw(t, jtHeader("HS256", k.ID(), nil), jtPayload(nil), jwt.SigningMethodHS256, secret), jtOpts())
	if got.Extra != nil {
		t.Errorf("Extra = %#v, want nil", got.Extra)
	}
}

// TestActClaim: RFC 8693's act claim goes out as an object with sub (and
// sid when set), comes back as Claims.Act, and cannot be set through
// Extra.
func TestActClaim(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	c := jtClaims()
	c.Act = &token.Act{Subject: "staff", SessionID: "s1"}
	c.Extra = map[string]any{"act": map[string]any{"sub": "forged"}, "ACT": "x", "k": "v"}
	tok, err := r.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.Verify(tok, jtOpts())
	if err != nil {
		t.Fatal(err)
	}
	if back.Act == nil || *back.Act != (token.Act{Subject: "staff", SessionID: "s1"}) || !reflect.DeepEqual(back.Extra, map[string]any{"k": "v"}) {
		t.Errorf("act = %+v, extra = %v", back.Act, back.Extra)
	}
	c.Act, c.Extra = &token.Act{Subject: "staff"}, nil
	if back, err = r.Verify(jtMust[string](t)(r.Sign(c)), jtOpts()); err != nil || back.Act == nil || back.Act.SessionID != "" {
		t.Errorf("act without sid: %+v, %v", back, err)
	}
	c.Act = nil
	if back, err = r.Verify(jtMust[string](t)(r.Sign(c)), jtOpts()); err != nil || back.Act != nil {
		t.Errorf("no act: %+v, %v", back, err)
	}
	c.Act = &token.Act{}
	if _, err := r.Sign(c); err == nil {
		t.Error("Sign accepted an act without a subject")
	}
}
