// Package dup is one of two packages named dup.
package dup

// T is a type.
type T struct{}
