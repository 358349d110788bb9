// Package ci tests the scripts under .ci that decide whether a CI run
// passes; it holds no code of its own.
package ci
