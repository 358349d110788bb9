// Package consts declares constants of every kind.
package consts

import "time"

// Level is a typed constant's type.
type Level int

// Typed constants from iota, one skipped.
const (
	Low Level = iota
	_
	High
	max Level = 9
)

// Untyped constants.
const (
	Answer   = 42
	Pi       = 3.14159
	Name     = "decls"
	Letter   = 'x'
	Enabled  = true
	Shift    = 1 << 70
	Third    = 1.0 / 3
	Long     = "a string longer than seventy-two characters, which go/constant shortens to an ellipsis"
	Timeout  = 2 * time.Second
	Complex  = 1 + 2i
	internal = 7
)
