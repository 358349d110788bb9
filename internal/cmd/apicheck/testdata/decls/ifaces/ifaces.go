// Package ifaces declares interfaces.
package ifaces

import "context"

// Empty has no methods.
type Empty interface{}

// Store has methods with named results.
type Store interface {
	Get(ctx context.Context, id string) (value []byte, err error)
	Put(context.Context, string, []byte) error
}

// Bounded embeds Store and adds one.
type Bounded interface {
	Store
	Limit() int
}
