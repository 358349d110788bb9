// Package sub is a nested module's package.
package sub

// Version is a constant.
const Version = 1
