package token

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// legacyDecodeClaims is jwtDecodeClaims as it was before it read the
// payload itself: json.Unmarshal into map[string]any, then legacyFromMap.
func legacyDecodeClaims(payload []byte) (*Claims, error) {
	if !utf8.Valid(payload) {
		return nil, errJWTUTF8
	}
	var m map[string]any
	err := json.Unmarshal(payload, &m)
	if _, syntax := err.(*json.SyntaxError); syntax {
		return nil, errJWTEncoding
	}
	if err != nil || m == nil {
		return nil, errJWTNotObject
	}
	c := new(Claims)
	if err := legacyFromMap(c, m); err != nil {
		return nil, err
	}
	return c, nil
}

// jsonCompareDecode fails t unless jwtDecodeClaims reads payload as
// legacyDecodeClaims does: the same claims, or an error of the same kind.
// Only the messages of some errors differ (a number beyond float64 is
// errJWTNumber, not errJWTNotObject).
func jsonCompareDecode(t *testing.T, payload []byte) {
	t.Helper()
	got, gotErr := jwtDecodeClaims(payload)
	want, wantErr := legacyDecodeClaims(payload)
	same := gotErr == nil && wantErr == nil && reflect.DeepEqual(got, want) ||
		got == nil && errors.Is(gotErr, ErrMalformed) && errors.Is(wantErr, ErrMalformed)
	if !same {
		t.Fatalf("payload %q:\njwtDecodeClaims    = %+v, %v\nlegacyDecodeClaims = %+v, %v", payload, got, gotErr, want, wantErr)
	}
}

var jsonDecodeCases = []string{
	`{"sub":"a","exp":1900000000}`,
	`{"sub":"a","exp":1900000000,"iat":1800000000,"nbf":1800000000.9,"jti":"j","type":"access","sid":"s","iss":"i","fresh":true,"csrf":"c"}`,
	` { "sub" : "a" ,` + "\n\t" + `"exp" : 1900000000 } `,
	`{"s\u0075b":"a","exp":1900000000}`,
	`{"sub":"\u0061\n\"","exp":1900000000,"x\u00e9":"\ud800"}`,
	`{"sub":1,"sub":"a","exp":1900000000}`,
	`{"sub":"a","sub":1,"exp":1900000000}`,
	`{"sub":"a","exp":1e400,"exp":1900000000}`,
	`{"sub":"a","exp":1900000000,"x":[1,{"y":1e400}]}`,
	`{"sub":"a","exp":1900000000,"aud":[1e400],"aud":"x"}`,
	`{"sub":"a","exp":1900000000,"act":{"sub":"b","z":-1e999}}`,
	`{"sub":"a","exp":1900000000,"x":{"}":"]","a":[[],{},"\"}"]},"n":-0.5e-3,"t":true,"f":false,"z":null}`,
	`{"sub":"","exp":1900000000}`,
	`{"sub":null,"exp":1900000000}`,
	`{"exp":1900000000}`,
	`{"sub":"a"}`,
	`{"sub":"a","exp":"1900000000"}`,
	`{"sub":"a","exp":-1}`,
	`{"sub":"a","exp":-0}`,
	`{"sub":"a","exp":253402300800}`,
	`{"sub":"a","exp":1900000000,"iat":null}`,
	`{"sub":"a","exp":1900000000,"jti":1}`,
	`{"sub":"a","exp":1900000000,"type":null}`,
	`{"sub":"a","exp":1900000000,"aud":"x"}`,
	`{"sub":"a","exp":1900000000,"aud":["x","y"]}`,
	`{"sub":"a","exp":1900000000,"aud":[]}`,
	`{"sub":"a","exp":1900000000,"aud":[""]}`,
	`{"sub":"a","exp":1900000000,"aud":["x",1]}`,
	`{"sub":"a","exp":1900000000,"aud":null}`,
	`{"sub":"a","exp":1900000000,"aud":{}}`,
	`{"sub":"a","exp":1900000000,"fresh":false}`,
	`{"sub":"a","exp":1900000000,"fresh":1900000000}`,
	`{"sub":"a","exp":1900000000,"fresh":-5}`,
	`{"sub":"a","exp":1900000000,"fresh":"true"}`,
	`{"sub":"a","exp":1900000000,"fresh":null}`,
	`{"sub":"a","exp":1900000000,"act":{"sub":"b","sid":"c","act":{"sub":"d"}}}`,
	`{"sub":"a","exp":1900000000,"act":{"sub":"b","sid":1}}`,
	`{"sub":"a","exp":1900000000,"act":{"sid":"c"}}`,
	`{"sub":"a","exp":1900000000,"act":"b"}`,
	`{"sub":"a","exp":1900000000,"SUB":"b","Exp":1}`,
	"{\"sub\":\"a\xff\",\"exp\":1900000000}",
	`{"sub":"a","exp":1900000000,"x":` + strings.Repeat("9", 308) + `}`,
	`{"sub":"a","exp":1900000000,"x":-` + strings.Repeat("9", 308) + `}`,
	`{"sub":"a","exp":1900000000,"x":` + strings.Repeat("9", 309) + `}`,
	`{"sub":"a","exp":1900000000,"x":-` + strings.Repeat("9", 309) + `.5}`,
	`{"sub":"a","exp":1900000000,"x":0.` + strings.Repeat("0", 400) + `1}`,
	`{"sub":"a","exp":1900000000,"x":1e-400,"y":-2E+2}`,
	`{}`, `[]`, `null`, `1`, `"x"`, `{`, ``, `{"sub":"a","exp":1}{}`, `{"sub":"a",}`,
}

func TestDecodeClaimsMatchesMap(t *testing.T) {
	for _, p := range jsonDecodeCases {
		jsonCompareDecode(t, []byte(p))
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, p := range jsonDecodeCases {
		f.Add([]byte(p))
	}
	f.Fuzz(jsonCompareDecode)
}

var jsonValidCases = []string{
	``, ` `, `{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `[1 2]`, `{"a" 1}`, `{"a":}`,
	`{"a":1}}`, `{"a":1]`, `[1}`, `{"a":[1,{"b":null}]}`, `{1:2}`, `{"a":1 "b":2}`,
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e-300`, `1e400`, `+1`, `0x1`,
	`true`, `false`, `null`, `tru`, `nul`, `truex`, `True`, `nulll`,
	`""`, `"a`, `"\"`, `"\\"`, `"\u00e9"`, `"\u00g9"`, `"\u00e"`, `"\x"`, `"\/\b\f\n\r\t"`, "\"a\tb\"", "\"\x7f\"", "\"\xff\"",
	`"a" "b"`, `{}x`, `[]]`, `[[[]]]`, `[[[]]`, `{"a":{"b":{"c":{}}}}`,
	strings.Repeat("[", jsonValidDepth) + strings.Repeat("]", jsonValidDepth),
	strings.Repeat("[", jsonValidDepth+1) + strings.Repeat("]", jsonValidDepth+1),
	strings.Repeat("[", jsonValidDepth+1) + strings.Repeat("]", jsonValidDepth),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// TestJSONValid holds jsonValid to json.Valid.
func TestJSONValid(t *testing.T) {
	for _, s := range append(jsonValidCases, jsonDecodeCases...) {
		if got, want := jsonValid(s), json.Valid([]byte(s)); got != want {
			t.Errorf("jsonValid(%.80q) = %v, json.Valid %v", s, got, want)
		}
	}
}

func FuzzJSONValid(f *testing.F) {
	for _, s := range append(jsonValidCases, jsonDecodeCases...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := jsonValid(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("jsonValid(%q) = %v, json.Valid %v", s, got, want)
		}
	})
}
