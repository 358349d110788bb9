package token

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jsonScan reads a JSON text that jsonValid accepted, so it checks no
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
			if !jsonFits(p.s[n:p.i]) {
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

// jsonFits reports whether the JSON number num is within float64's range,
// as encoding/json requires. Without an exponent, one of up to 308
// characters is below 10^308 and always is: only others are parsed.
func jsonFits(num string) bool {
	if len(num) <= 308 && !strings.ContainsAny(num, "eE") {
		return true
	}
	_, err := strconv.ParseFloat(num, 64)
	return err == nil
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

// jsonValid reports whether s is one JSON value (RFC 8259) between
// optional whitespace, as json.Valid does, in one pass with no calls per
// byte. Strings may hold any bytes but control characters: s is UTF-8,
// which jwtDecodeClaims checked first. Nesting deeper than jsonValidDepth,
// which no claims need, is left to json.Valid.
func jsonValid(s string) bool {
	const (
		wantValue = iota
		afterValue
		wantName
	)
	var object [jsonValidDepth / 64]uint64 // bit d: the container at depth d is an object
	depth, state, i := 0, wantValue, jsonSkipSpace(s, 0)
	for {
		switch state {
		case wantValue:
			if i == len(s) {
				return false
			}
			state = afterValue
			switch c := s[i]; {
			case c == '{' || c == '[':
				if depth == jsonValidDepth {
					return json.Valid([]byte(s))
				}
				object[depth/64] &^= 1 << (depth % 64)
				if c == '{' {
					object[depth/64] |= 1 << (depth % 64)
					state = wantName
				} else {
					state = wantValue
				}
				depth++
				i = jsonSkipSpace(s, i+1)
				if i < len(s) && s[i] == c+2 { // '}' or ']': empty
					depth--
					i++
					state = afterValue
				}
				continue
			case c == '"':
				i = jsonSkipValidString(s, i)
			case jsonIsNumber(s[i:]):
				i = jsonSkipNumber(s, i)
			case strings.HasPrefix(s[i:], "true"), strings.HasPrefix(s[i:], "null"):
				i += 4
			case strings.HasPrefix(s[i:], "false"):
				i += 5
			default:
				return false
			}
			if i < 0 {
				return false
			}
		case afterValue:
			i = jsonSkipSpace(s, i)
			if depth == 0 {
				return i == len(s)
			}
			if i == len(s) {
				return false
			}
			inObject := object[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			switch c := s[i]; {
			case c == ',':
				i = jsonSkipSpace(s, i+1)
				if inObject {
					state = wantName
				} else {
					state = wantValue
				}
			case c == '}' && inObject, c == ']' && !inObject:
				depth--
				i++
			default:
				return false
			}
		case wantName:
			if i == len(s) || s[i] != '"' {
				return false
			}
			if i = jsonSkipValidString(s, i); i < 0 {
				return false
			}
			if i = jsonSkipSpace(s, i); i == len(s) || s[i] != ':' {
				return false
			}
			i = jsonSkipSpace(s, i+1)
			state = wantValue
		}
	}
}

// jsonValidDepth is the deepest nesting jsonValid reads itself.
const jsonValidDepth = 512

// jsonSkipSpace returns the index of the first byte from i on that is not
// JSON whitespace.
func jsonSkipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// jsonSkipValidString returns the index after the JSON string at s[i], or
// -1 if there is none: unterminated, a control character, or an escape
// that is not one of \" \\ \/ \b \f \n \r \t \uXXXX.
func jsonSkipValidString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i++; i == len(s) {
				return -1
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1
				}
				for end := i + 4; i < end; {
					i++
					if h := s[i]; !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
			default:
				return -1
			}
		}
	}
	return -1
}

// jsonSkipNumber returns the index after the JSON number at s[i], or -1
// if it is not one: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func jsonSkipNumber(s string, i int) int {
	if s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if i = jsonSkipDigits(s, i); i < 0 {
		return -1
	}
	if i < len(s) && s[i] == '.' {
		if i = jsonSkipDigits(s, i+1); i < 0 {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i = jsonSkipDigits(s, i); i < 0 {
			return -1
		}
	}
	return i
}

// jsonSkipDigits returns the index after the digits from s[i] on, or -1
// if there are none.
func jsonSkipDigits(s string, i int) int {
	start := i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}
