// Package token is latch's JWT format: signed JWTs checked against a
// Keyring whose keys each allow exactly one algorithm (RFC 8725), with
// kid-based rotation and a JWKS document of the public keys.
//
// A service that receives latch's access JWTs can verify them with a
// Keyring of the issuer's public keys (NewVerifyKey, or ParsePEMKey of a
// public key) and Keyring.Verify, without latch's store. The package knows
// nothing about sessions or HTTP; package latch builds on it.
package token
