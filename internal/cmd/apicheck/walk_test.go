package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestFeatures generates the API of testdata/decls, a module with a
// package for each kind of declaration, and compares each package's
// lines with the table. Packages the table lacks must produce no line:
// a command, an internal package and a directory of tests only.
func TestFeatures(t *testing.T) {
	files, err := generate(mustAbs(t, "testdata/decls"))
	if err != nil {
		t.Fatal(err)
	}
	if names := slices.Sorted(maps.Keys(files)); !slices.Equal(names, []string{"decls.txt"}) {
		t.Fatalf("files %q, want decls.txt alone", names)
	}
	got := map[string][]string{} // package label -> its lines, without "pkg label, "
	for _, line := range lines(files["decls.txt"]) {
		label, feature, ok := strings.Cut(strings.TrimPrefix(line, "pkg "), ", ")
		if !ok || !strings.HasPrefix(line, "pkg ") {
			t.Fatalf("malformed line %q", line)
		}
		got[label] = append(got[label], feature)
	}
	want := map[string][]string{
		"decls/consts": { // typed, from iota (one skipped), untyped of every kind, exact values
			"const Answer = 42",
			"const Answer ideal-int",
			"const Complex = (1 + 2i)",
			"const Complex ideal-complex",
			"const Enabled = true",
			"const Enabled ideal-bool",
			"const High = 2",
			"const High Level",
			"const Letter = 120",
			"const Letter ideal-char",
			`const Long = "a string longer than seventy-two characters, which go/constant short...  // "a string longer than seventy-two characters, which go/constant shortens to an ellipsis"`,
			"const Long ideal-string",
			"const Low = 0",
			"const Low Level",
			`const Name = "decls"`,
			"const Name ideal-string",
			"const Pi = 3.14159  // 314159/100000",
			"const Pi ideal-float",
			"const Shift = 1180591620717411303424",
			"const Shift ideal-int",
			"const Third = 0.333333  // 1/3",
			"const Third ideal-float",
			"const Timeout = 2000000000",
			"const Timeout time.Duration",
			"type Level int",
		},
		"decls/funcs": { // byte and rune as uint8 and int32, any as interface{}, anonymous types in full
			"func Anon(struct{ A int; b string }, interface{ Close() error; Name() string }) interface{}",
			"func Chans(<-chan int, chan<- string, chan struct{})",
			"func Handler(http.Handler) http.HandlerFunc",
			"func None()",
			"func Variadic(string, ...io.Reader) (int64, error)",
			"var Default map[string][]uint8",
			"var ErrBad error",
			"var Hook func(context.Context, ...string) (int, error)",
			"var Table [4]int32",
		},
		"decls/generics": { // type parameters by position, with constraints; type terms sorted
			"func Keys[$0 interface{ ~map[$1]$2 }, $1 comparable, $2 interface{}]($0) []$1",
			"func Sum[$0 Number](...$0) $0",
			"method (*Pair[$0, $1]) Set($1)",
			"method (Pair[$0, $1]) Swap() Pair[$0, $1]",
			"type List[$0 Number] []$0",
			"type Number interface { ~float64 | ~int | ~int64 }",
			"type Pair[$0 comparable, $1 interface{}] struct",
			"type Pair[$0 comparable, $1 interface{}] struct, Key $0",
			"type Pair[$0 comparable, $1 interface{}] struct, Val $1",
			"type Stringish interface { Len, ~[]uint8 | ~string }",
			"type Stringish interface, Len() int",
			"var Ints Pair[string, int]",
		},
		"decls/aliases": { // an alias of an unexported type reaches it
			"method (hidden) Exported()",
			"type Any = interface{}",
			"type Local struct",
			"type Local struct, A int",
			"type Set[$0 comparable] = map[$0]struct{}",
			"type ToBuiltin = []uint8",
			"type ToForeign = io.Reader",
			"type ToHidden = hidden",
			"type ToLocal = Local",
			"type hidden struct",
			"type hidden struct, When time.Time",
		},
		"decls/embed": { // promoted methods in the method set of T or *T; an unexported embedded struct's exported parts
			"method (*Base) Bye()",
			"method (*Outer) Bye()",
			"method (Base) Hello() string",
			"method (Outer) Hello() string",
			"method (Outer) Inner()",
			"method (Outer) Lock()",
			"method (Outer) TryLock() bool",
			"method (Outer) Unlock()",
			"method (Outer) Write([]uint8) (int, error)",
			"method (inner) Inner()",
			"type Base struct",
			"type Base struct, ID string",
			"type Outer struct",
			"type Outer struct, Name string",
			"type Outer struct, embedded *sync.Mutex",
			"type Outer struct, embedded Base",
			"type Outer struct, embedded io.Writer",
			"type ReadCloser interface { Close, Read }",
			"type ReadCloser interface, Close() error",
			"type ReadCloser interface, Read([]uint8) (int, error)",
			"type inner struct",
			"type inner struct, Promoted int",
		},
		"decls/hidden": { // unexported types the API reaches, and not unreached
			"func New() *impl",
			"method (*impl) Do() error",
			"method (next) Double() next",
			"type Opt func(*config)",
			"type Sealed interface, Name() string",
			"type Sealed interface, unexported methods",
			"type config struct",
			"type impl struct",
			"type impl struct, Field next",
			"type impl struct, Public int",
			"type next int",
		},
		"decls/methods": { // T's methods with (T), the rest of *T's with (*T)
			"method (*Counter) Inc()",
			"method (*Pointer) Get() string",
			"method (Counter) Value() int",
			"type Counter int",
			"type Pointer struct",
		},
		"decls/ifaces": { // an embedded interface's methods are listed as the embedder's
			"type Bounded interface { Get, Limit, Put }",
			"type Bounded interface, Get(context.Context, string) ([]uint8, error)",
			"type Bounded interface, Limit() int",
			"type Bounded interface, Put(context.Context, string, []uint8) error",
			"type Empty interface {}",
			"type Store interface { Get, Put }",
			"type Store interface, Get(context.Context, string) ([]uint8, error)",
			"type Store interface, Put(context.Context, string, []uint8) error",
		},
		"decls/collide": { // two packages named dup: import paths; math/rand/v2 by its name
			"func Both(example.com/decls/names/v1/dup.T, example.com/decls/names/v2/dup.T) *rand.Rand",
		},
		"decls/names/v1/dup": {"type T struct"},
		"decls/names/v2/dup": {"type T struct"},
		"decls/leak": { // a type of an internal package, reached through an alias
			"method (*impl.Engine) Run()",
			"type Engine = impl.Engine",
			"type impl.Engine struct",
			"type impl.Engine struct, Speed int",
		},
	}
	for label, w := range want {
		if g := got[label]; !slices.Equal(g, w) {
			t.Errorf("pkg %s:\n got: %s\nwant: %s", label, strings.Join(g, "\n      "), strings.Join(w, "\n      "))
		}
	}
	for label := range got {
		if _, ok := want[label]; !ok {
			t.Errorf("pkg %s has lines, want none: %q", label, got[label])
		}
	}
}
