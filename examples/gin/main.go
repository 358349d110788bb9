// Command gin is the seed walkthrough (examples/seed) on gin, guarded by
// latchgin: the same routes, the same answers, the same configuration.
//
//	go run ./examples/gin
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
// GIN_MODE works as usual; it defaults to release here, so the server
// prints one startup line. The curl session in examples/seed/README.md
// runs unchanged against it.
package main

import (
	"fmt"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch/examples/internal/walkthrough"
	_ "github.com/latchauth/latch/store/sqlstore/sqlite" // registers sqlite:, the default; see stores.go for the others
)

func main() {
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	if err := walkthrough.Serve("gin", routes); err != nil {
		fmt.Fprintf(os.Stderr, "gin: %v\n", err)
		os.Exit(1)
	}
}
