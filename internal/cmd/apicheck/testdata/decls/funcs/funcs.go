// Package funcs declares functions and variables of every shape.
package funcs

import (
	"context"
	"io"
	"net/http"
)

// Vars of named, builtin and composite types.
var (
	ErrBad  error
	Default = map[string][]byte{}
	Table   [4]rune
	Hook    func(context.Context, ...string) (int, error)
	hidden  int
)

// None takes and returns nothing.
func None() {}

// Variadic takes a prefix and any number of readers.
func Variadic(prefix string, rs ...io.Reader) (n int64, err error) { return 0, nil }

// Chans takes channels of each direction.
func Chans(in <-chan int, out chan<- string, both chan struct{}) {}

// Anon takes an anonymous struct and an anonymous interface.
func Anon(s struct {
	A int
	b string
}, i interface {
	Close() error
	Name() string
}) any {
	return nil
}

// Handler returns a function type of another package.
func Handler(h http.Handler) http.HandlerFunc { return nil }

func unexported() {}
