package latch_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

// FuzzAuthenticate feeds arbitrary header, cookie, query and body values
// through token extraction and verification. Nothing may panic, and
// anything but the one real token must be refused with a 4xx.
func FuzzAuthenticate(f *testing.F) {
	var envs []*env
	var valid []string
	for _, mode := range modes {
		e := newEnv(f, mode, func(c *latch.Config) {
			c.HTTP.Locations = []latch.Location{latch.InHeader, latch.InCookie, latch.InQuery, latch.InJSON}
		})
		envs = append(envs, e)
		valid = append(valid, e.login(f, users["1"], "fuzz").AccessToken)
	}
	for i, v := range valid {
		m := uint8(i)
		f.Add(m, "Bearer "+v, "", "", "")
		f.Add(m, "", v, "", "")
		f.Add(m, "", "", v, "")
		f.Add(m, "", "", "", `{"access_token":"`+v+`"}`)
		f.Add(m, "Bearer "+v, "", v+"x", "")
	}
	f.Add(uint8(0), "Bearer ", "a.b.c", "..", `{"access_token":7}`)
	f.Add(uint8(1), "bearer "+strings.Repeat(".", 200), "lta_", "ltr_", "[[[[")
	f.Add(uint8(2), "Basic xyz", "%zz", "\x00", `{"access_token":null}`)
	f.Fuzz(func(t *testing.T, mode uint8, header, cookie, query, body string) {
		e := envs[int(mode)%len(envs)]
		r := &http.Request{
			Method: "POST",
			URL:    &url.URL{Path: "/", RawQuery: "access_token=" + url.QueryEscape(query)},
			Header: http.Header{},
			Body:   io.NopCloser(strings.NewReader(body)),
		}
		if query == "" {
			r.URL.RawQuery = ""
		}
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if cookie != "" {
			r.Header.Set("Cookie", "latch_access="+cookie)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		r = r.WithContext(bg)
		_, err := e.auth.Authenticate(r, latch.Guard{})
		if err == nil {
			return // only the real token (or a conflict-free mix of it) gets here
		}
		switch code := latch.StatusCode(err); code {
		case 400, 401, 403, 413:
		default:
			t.Fatalf("status %d for %v", code, err)
		}
		if errors.Is(err, latch.ErrUnavailable) {
			t.Fatalf("store failure from input: %v", err)
		}
		for _, v := range valid {
			if strings.Contains(err.Error(), v) {
				t.Fatal("error message echoes the token")
			}
		}
	})
}
