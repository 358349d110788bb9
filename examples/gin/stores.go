//go:build stores

package main

// The networked stores, linked only when built with -tags stores, so that
// the first run of the example builds the embedded SQLite store alone
// (a third less to download and compile):
//
//	LATCH_STORE=redis://localhost:6379 go run -tags stores ./examples/gin
import (
	_ "github.com/latchauth/latch/store/mongostore"        // registers mongodb://, mongodb+srv://
	_ "github.com/latchauth/latch/store/redisstore"        // registers redis://, rediss://, redis+cluster://
	_ "github.com/latchauth/latch/store/sqlstore/mysql"    // registers mysql://
	_ "github.com/latchauth/latch/store/sqlstore/postgres" // registers postgres://, postgresql://
)
