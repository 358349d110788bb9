// Package impl is internal: no API of its own.
package impl

// Engine is exported from an internal package.
type Engine struct{ Speed int }

// Run is its method.
func (*Engine) Run() {}

// Unused is reached by no API.
type Unused struct{}
