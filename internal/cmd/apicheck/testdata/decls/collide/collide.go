// Package collide uses two packages of one name, and another whose
// name is not the last element of its path.
package collide

import (
	one "example.com/decls/names/v1/dup"
	two "example.com/decls/names/v2/dup"
	"math/rand/v2"
)

// Both takes both.
func Both(one.T, two.T) *rand.Rand { return nil }
