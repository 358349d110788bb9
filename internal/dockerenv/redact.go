package main

import "strings"

// redact replaces the password in every URL or go-sql-driver DSN
// userinfo found in s ("user:secret@host") with "xxxxx". A token is a run
// of characters between blanks or quotes; its password runs from the first
// ':' (after any "scheme://") to its last '@', so a password holding '@'
// does not leak.
func redact(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(s, " \t\r\n\"'`")
		if i < 0 {
			b.WriteString(redactToken(s))
			return b.String()
		}
		b.WriteString(redactToken(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
}

func redactToken(tok string) string {
	at := strings.LastIndexByte(tok, '@')
	if at < 0 {
		return tok
	}
	start := 0
	if i := strings.Index(tok[:at], "://"); i >= 0 {
		start = i + len("://")
	}
	colon := strings.IndexByte(tok[start:at], ':')
	if colon < 0 {
		return tok
	}
	return tok[:start+colon+1] + "xxxxx" + tok[at:]
}
