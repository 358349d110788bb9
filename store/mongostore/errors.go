package mongostore

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrInvalid: a Session or Rotation holds a value beyond the limits of
	// package store (a subject that is not valid UTF-8, holds NUL or is
	// longer than store.MaxSubjectLen; a device field longer than
	// store.MaxDeviceLen; a hash longer than store.HashLen; a time beyond
	// the range of BSON dates; claims encoding/json cannot encode), an
	// option is out of range, or a URL is not one Open takes. Nothing was
	// written.
	ErrInvalid = errors.New("mongostore: invalid value")
	// ErrClosed is returned by every method of a Store after Close: an
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed = errors.New("mongostore: store closed")
)

// Server error codes the store tells apart.
const (
	codeNotImplemented      = 238 // NotImplemented: FerretDB, for expireAfterSeconds
	codeCommandNotSupported = 115 // CommandNotSupported
	codeNamespaceExists     = 48  // NamespaceExists: the collection exists
)

// hasCode reports whether err is a server error with one of codes.
func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}
