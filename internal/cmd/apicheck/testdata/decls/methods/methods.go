// Package methods declares methods on value and pointer receivers.
package methods

// Counter has methods on both receivers.
type Counter int

// Value is in the method set of Counter and *Counter.
func (c Counter) Value() int { return int(c) }

// Inc is in the method set of *Counter only.
func (c *Counter) Inc() { *c++ }

func (c *Counter) reset() { *c = 0 }

// Pointer has pointer methods only.
type Pointer struct{}

// Get is a pointer method.
func (*Pointer) Get() string { return "" }
