package token

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jsonScan reads a JSON text that json.Valid accepted, so it checks no
// syntax: jwtDecodeClaims reads the members of a payload with it, as
// strings sliced from the payload, without building a value for each as
// json.Unmarshal into any would.
type jsonScan struct {
	s string
	i int
}

// space moves past whitespace.
func (p *jsonScan) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// object moves into the object at p and reports whether there is one.
func (p *jsonScan) object() bool {
	p.space()
	if p.i == len(p.s) || p.s[p.i] != '{' {
		return false
	}
	p.i++
	p.space()
	return true
}

// member reads the next member of the object p is in: its name, as
// encoding/json unquotes it, and its value as JSON text. more is false at
// the end of the object. fits is false when a number in the value is
// beyond float64, which encoding/json refuses to decode.
func (p *jsonScan) member() (name, value string, fits, more bool) {
	if p.s[p.i] == '}' {
		return "", "", true, false
	}
	name = jsonUnquote(p.s[p.i:p.skipString()])
	p.space()
	p.i++ // ':'
	p.space()
	value, fits = p.value()
	p.space()
	if p.s[p.i] == ',' {
		p.i++
		p.space()
	}
	return name, value, fits, true
}

// skipString moves past the string at p and returns where it ends.
func (p *jsonScan) skipString() int {
	for p.i++; p.s[p.i] != '"'; p.i++ {
		if p.s[p.i] == '\\' {
			p.i++
		}
	}
	p.i++
	return p.i
}

// value moves past the value at p and returns its text, and whether every
// number in it fits a float64.
func (p *jsonScan) value() (text string, fits bool) {
	start, depth := p.i, 0
	fits = true
	for {
		switch c := p.s[p.i]; {
		case c == '"':
			p.skipString()
		case c == '{' || c == '[':
			depth++
			p.i++
		case c == '}' || c == ']':
			depth--
			p.i++
		case jsonIsNumber(p.s[p.i:]):
			n := p.i
			for p.i < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
				p.i++
			}
			if _, err := strconv.ParseFloat(p.s[n:p.i], 64); err != nil {
				fits = false
			}
		case 'a' <= c && c <= 'z': // true, false, null
			for p.i < len(p.s) && 'a' <= p.s[p.i] && p.s[p.i] <= 'z' {
				p.i++
			}
		default: // whitespace, ',' or ':' inside an array or object
			p.i++
		}
		if depth == 0 {
			return p.s[start:p.i], fits
		}
	}
}

// jsonUnquote returns the JSON string q, quotes included, unquoted. One
// without escapes is a slice of q; one with escapes is decoded by
// encoding/json, which turns a lone surrogate into U+FFFD.
func jsonUnquote(q string) string {
	if strings.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	json.Unmarshal([]byte(q), &s) // q is a valid JSON string
	return s
}

// jsonValue returns the JSON value text, whose numbers all fit a float64,
// as json.Unmarshal into any would: a string, bool, nil or float64 here,
// an array or object by json.Unmarshal.
func jsonValue(text string) any {
	switch c := text[0]; {
	case c == '"':
		return jsonUnquote(text)
	case c == 't':
		return true
	case c == 'f':
		return false
	case c == 'n':
		return nil
	case jsonIsNumber(text):
		f, _ := strconv.ParseFloat(text, 64)
		return f
	}
	var v any
	json.Unmarshal([]byte(text), &v)
	return v
}

// jsonIsNumber reports whether the JSON value text is a number.
func jsonIsNumber(text string) bool {
	return text[0] == '-' || '0' <= text[0] && text[0] <= '9'
}
