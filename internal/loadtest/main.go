// Command loadtest measures latch under load beside a bare handler and its
// peers, and latch's stores at scale (issue 15, docs/performance.md). It is
// a script for people, not for CI: the figures depend on the machine.
//
//	go run ./internal/loadtest                   # the load table (make load)
//	go run ./internal/loadtest -only bare,latch-jwt
//	go run ./internal/loadtest -scale -size 1000000
//
// The load table: each server runs as a process of its own (this binary
// with -server NAME) on a free loopback port, with tokens for -sessions
// distinct sessions or subjects, which wrk's Lua script takes in turn;
// `wrk -t1 -c32 -d3s` runs -rounds rounds against each, the servers in
// turn within each round, and the table shows the median of each. The
// backends come from the LATCH_TEST_* variables (source
// /work/plan/testenv.sh or see DEVELOPERS.md); a row whose backend is
// missing is shown as skipped. Redis keys and PostgreSQL tables get a
// prefix of the run's own and are deleted at the end.
//
// The scale run (-scale) fills Redis and PostgreSQL with -size sessions
// and measures lookups, revoke-all, listing, memory and disk (scale.go).
package main

import (
	"flag"
	"fmt"
	"os"
)

// tokenCount is how many sessions or tokens each server prepares.
var tokenCount = 10_000

// touchInterval, when set, is the latch rows' LATCH_TOUCH_INTERVAL: a
// run's rounds of one server are about a minute apart, so with latch's
// default (1m) the first use of every session in each round writes its
// last use to the store, which a steady load of 10,000 sessions does
// once a minute each.
var touchInterval string

func main() {
	server := flag.String("server", "", "run one server (see servers) instead of the harness")
	tokens := flag.String("tokens", "", "with -server: file to write the tokens to, one a line")
	prefix := flag.String("prefix", "", "with -server: the Redis key prefix of the hand-written baseline")
	redisURL := flag.String("redis", "", "with -server: the Redis URL of the hand-written baseline")
	flag.IntVar(&tokenCount, "sessions", tokenCount, "distinct sessions or tokens per server")
	flag.StringVar(&touchInterval, "touch-interval", "", "the latch servers' LATCH_TOUCH_INTERVAL (default latch's, 1m)")
	rounds := flag.Int("rounds", 3, "wrk rounds per server; the table shows the median")
	duration := flag.String("d", "3s", "wrk's duration of one round")
	only := flag.String("only", "", "comma-separated rows to run (default all); bare is always run")
	scale := flag.Bool("scale", false, "run the scale measurement instead of the load table")
	size := flag.Int("size", 1_000_000, "with -scale: sessions to fill each store with")
	flag.Parse()

	var err error
	switch {
	case *server != "":
		err = runServer(*server, *tokens, serverEnv{redisURL: *redisURL, prefix: *prefix})
	case *scale:
		err = runScale(*size)
	default:
		err = runLoad(loadOptions{rounds: *rounds, duration: *duration, only: *only})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
		os.Exit(1)
	}
}
