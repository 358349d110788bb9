// Command seed is the flask-jwt-extended walkthrough that latch began with,
// ported to Go: the same routes and answers, with per-device sessions and
// opaque, JWT or hybrid tokens chosen by LATCH_MODE.
//
//	go run ./examples/seed
//
// It reads latch's configuration from the LATCH_* environment variables
// (see latch.ConfigFromEnv and latchhttp.ConfigFromEnv) and, besides
// them:
//
//	LATCH_ADDR      address to listen on (default 127.0.0.1:8080)
//	LATCH_DATA_DIR  where the sessions (an SQLite file, unless LATCH_STORE
//	                names another store) and the generated JWT secret are
//	                kept (default latch-data in the working directory,
//	                created 0700; an existing one that other users can
//	                write to is refused)
//
// This package holds what is net/http's: the routes on an http.ServeMux
// and their handlers. The users, the latch configuration and the server's
// lifecycle are shared with examples/gin and examples/echo, in
// examples/internal/walkthrough. See README.md for a curl session.
package main

import (
	"fmt"
	"os"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	_ "github.com/latchauth/latch/store/sqlstore/sqlite" // registers sqlite:, the default; see stores.go for the others
)

func main() {
	if err := walkthrough.Serve("seed", routes); err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n", err)
		os.Exit(1)
	}
}
