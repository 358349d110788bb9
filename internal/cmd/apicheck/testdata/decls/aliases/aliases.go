// Package aliases declares type aliases.
package aliases

import (
	"io"
	"time"
)

// Local is a defined type.
type Local struct{ A int }

// ToLocal, ToForeign and ToBuiltin are aliases.
type (
	ToLocal   = Local
	ToForeign = io.Reader
	ToBuiltin = []byte
	Any       = any
)

// Set is a generic alias.
type Set[K comparable] = map[K]struct{}

// ToHidden is an exported alias of an unexported type.
type ToHidden = hidden

type hidden struct{ When time.Time }

func (hidden) Exported() {}
