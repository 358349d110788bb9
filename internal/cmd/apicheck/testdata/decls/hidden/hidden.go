// Package hidden declares unexported types, some reached through its
// API and some not.
package hidden

// New returns an unexported type with exported methods.
func New() *impl { return &impl{} }

type impl struct {
	Field  next
	Public int
	secret int
}

func (*impl) Do() error { return nil }
func (*impl) undo()     {}

// next is reached through impl's exported field.
type next int

func (next) Double() next { return 0 }

// Opt is a func type over an unexported type.
type Opt func(*config)

type config struct{ size int }

// unreached has exported methods, but no exported name leads to it.
type unreached struct{ X int }

func (unreached) Method() {}

// Sealed has an unexported method: only this package implements it.
type Sealed interface {
	Name() string
	sealed()
}
