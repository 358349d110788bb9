// Package embed declares structs and interfaces that embed others.
package embed

import (
	"io"
	"sync"
)

// Base has fields and methods to promote.
type Base struct{ ID string }

// Hello has a value receiver.
func (Base) Hello() string { return "" }

// Bye has a pointer receiver.
func (*Base) Bye() {}

type inner struct {
	Promoted int
	private  int
}

func (inner) Inner() {}

// Outer embeds an exported struct, a pointer to one of another
// package, an unexported struct and an interface.
type Outer struct {
	Base
	*sync.Mutex
	inner
	io.Writer
	Name string
	note string
}

type closer interface{ Close() error }

// ReadCloser embeds an interface of another package and an unexported one.
type ReadCloser interface {
	io.Reader
	closer
}
