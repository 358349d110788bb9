// Package work is the root module's package.
package work

// Hello greets.
func Hello() string { return "hello" }
