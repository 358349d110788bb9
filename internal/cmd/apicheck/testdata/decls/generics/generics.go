// Package generics declares generic functions and types.
package generics

// Number is a constraint with type terms.
type Number interface {
	~int | ~int64 | ~float64
}

// Stringish mixes a method and type terms.
type Stringish interface {
	~string | ~[]byte
	Len() int
}

// Sum adds numbers.
func Sum[N Number](xs ...N) N { var s N; return s }

// Keys takes a map with a comparable key and a constraint written inline.
func Keys[M ~map[K]V, K comparable, V any](m M) []K { return nil }

// Pair is a generic struct.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// Swap has a value receiver.
func (p Pair[K, V]) Swap() Pair[K, V] { return p }

// Set has a pointer receiver.
func (p *Pair[K, V]) Set(v V) { p.Val = v }

// Ints is an instantiation.
var Ints Pair[string, int]

// List is a generic type over a constraint of this package.
type List[N Number] []N
