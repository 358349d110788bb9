// Command tool is a command: no API.
package main

// Exported is no API in a main package.
func Exported() {}

func main() {}
