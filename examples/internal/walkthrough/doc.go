// Package walkthrough is what the gin and echo ports of the seed
// walkthrough share, so that they differ from each other and from
// examples/seed only where their frameworks do: the users, the latch
// configuration (loaders, the "dave" answer, the admin check, the signing
// key generated in LATCH_DATA_DIR), the login body, the server's settings
// and lifecycle, and RunScript, the scripted walkthrough their tests run
// to prove they answer as examples/seed does.
//
// It mirrors examples/seed's main package, which is not importable; the
// two are kept in step by RunScript, whose transcript.txt is examples/seed's
// answers.
package walkthrough
