// Command dockerenv starts in Docker the test backends whose variable is
// unset, for make test. It is a module of its own, never published, so
// that Docker's client reaches no user of latch (internal/testenv, which
// the tests import, reads the variables only).
//
//	dockerenv start STATE   start a container for each backend whose LATCH_TEST_*
//	                        variable is unset or empty, wait until it answers,
//	                        print an export line for it, and list the
//	                        container in the file STATE
//	dockerenv stop STATE    remove the containers listed in STATE, then STATE
//
// Images: postgres:16-alpine, mariadb:11, redis:7-alpine and mongo:7 (Redis
// Cluster has no image: .ci/redis-cluster starts one). With every variable
// set, start does nothing and contacts no engine. When no Docker engine
// answers (DOCKER_HOST, else /var/run/docker.sock) it says so on stderr
// and exits 0: the tests then report each missing backend. A container
// stops on its own after 15 minutes, should stop never run.
//
// Use it as make test does:
//
//	eval "$(dockerenv start "$tmp/containers")"
//	trap 'dockerenv stop "$tmp/containers"' EXIT
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `usage: dockerenv start STATE   start the unset backends in Docker, print export lines
       dockerenv stop STATE    remove the containers that start listed in STATE
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, connect, os.Stdout, os.Stderr))
}

// run carries out args and returns the exit status: 0, 1 when a backend
// could not be started or a container removed, 2 for bad arguments.
func run(args []string, getenv func(string) string, connect func() (engine, error), stdout, stderr io.Writer) int {
	verb, state, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "dockerenv: %v\n%s", err, usage)
		return 2
	}
	if verb == "start" {
		return start(state, toStart(getenv), connect, stdout, stderr)
	}
	return stop(state, connect, stderr)
}

// parseArgs reads "start STATE" or "stop STATE".
func parseArgs(args []string) (verb, state string, err error) {
	if len(args) != 2 {
		return "", "", errors.New("want a verb and a state file")
	}
	verb, state = args[0], args[1]
	if verb != "start" && verb != "stop" {
		return "", "", fmt.Errorf("unknown verb %q", verb)
	}
	if state == "" {
		return "", "", errors.New("empty state file name")
	}
	return verb, state, nil
}
