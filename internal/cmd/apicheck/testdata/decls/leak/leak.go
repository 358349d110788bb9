// Package leak exposes a type of an internal package.
package leak

import "example.com/decls/internal/impl"

// Engine is an alias of an internal type.
type Engine = impl.Engine
