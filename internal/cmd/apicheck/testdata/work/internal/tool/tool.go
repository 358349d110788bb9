// Package tool is internal: no API.
package tool

// Run is exported, but from an internal package.
func Run() {}
