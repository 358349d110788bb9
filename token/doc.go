// Package token holds latch's two credential formats: signed JWTs checked
// against a Keyring whose keys each allow exactly one algorithm, and opaque
// tokens that name a session and carry a 256-bit secret, of which a store
// keeps only the SHA-256.
//
// The package knows nothing about sessions or HTTP; package latch builds
// the authentication strategies on top of it.
package token
