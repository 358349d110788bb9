// Package dup is the other package named dup.
package dup

// T is a type.
type T struct{}
