// Package walkthrough is what the three ports of the flask-jwt-extended
// walkthrough (examples/seed on net/http, examples/gin, examples/echo)
// share, so that they differ only where their frameworks do: the users,
// the latch configuration (loaders, the "dave" answer, the admin check,
// the signing key generated in LATCH_DATA_DIR), the login body, the
// server's settings and lifecycle. Each example adds its routes and its
// handlers.
//
// The package links no session store in: with LATCH_STORE unset, New
// keeps sessions in an SQLite file, so every example's main package
// imports github.com/latchauth/latch/store/sqlstore for its side effect,
// and redisstore and mongostore too, so that LATCH_STORE alone picks any
// store latch has.
// Package walkthroughtest holds the scripted walkthrough all three answer
// alike.
package walkthrough
