// Command demo is an example: no API.
package main

func main() {}
