package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

const (
	readyWait  = 2 * time.Minute        // how long a started server may take to answer
	readyEvery = 500 * time.Millisecond // how often it is probed meanwhile
)

// engine is what dockerenv needs of a Docker engine; the tests fake it.
type engine interface {
	// run starts b's container and returns its ID and the host:port where
	// b.port is published. A container that was created is returned with
	// its ID even when err is not nil, so that it can be removed.
	run(b backend) (id, addr string, err error)
	// remove removes a container, running or not; one already gone is no
	// error.
	remove(id string) error
}

// start starts todo's containers at once, lists each in the file state as
// soon as it exists, and prints the export lines of those that answered,
// in todo's order. With todo empty it does nothing; without an engine it
// says so and succeeds.
func start(state string, todo []backend, connect func() (engine, error), stdout, stderr io.Writer) int {
	if len(todo) == 0 {
		return 0
	}
	e, err := connect()
	if err != nil {
		fmt.Fprintf(stderr, "dockerenv: no Docker engine answered (%s); %s stay unset\n", redact(err.Error()), varNames(todo))
		return 0
	}
	var (
		mu     sync.Mutex // guards state, lines, failed and stderr
		lines  = make([]string, len(todo))
		failed bool
		wg     sync.WaitGroup
	)
	record := func(id string) error {
		mu.Lock()
		defer mu.Unlock()
		return appendState(state, id)
	}
	for i, b := range todo {
		wg.Go(func() {
			value, err := startOne(e, b, record, readyWait, readyEvery)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = true
				fmt.Fprintf(stderr, "dockerenv: %s stays unset: starting %s failed: %s\n", b.envVar, b.image, redact(err.Error()))
				return
			}
			lines[i] = exportLine(b.envVar, value)
			fmt.Fprintf(stderr, "dockerenv: %s from a %s container\n", b.envVar, b.image)
		})
	}
	wg.Wait()
	for _, l := range lines {
		io.WriteString(stdout, l)
	}
	if failed {
		return 1
	}
	return 0
}

// startOne runs b's container, records its ID, and waits until b answers;
// it returns b's variable's value.
func startOne(e engine, b backend, record func(id string) error, wait, every time.Duration) (string, error) {
	id, addr, err := e.run(b)
	if id != "" {
		if rerr := record(id); rerr != nil {
			// Unrecorded, stop would never remove it: remove it now.
			return "", errors.Join(fmt.Errorf("recording container %s: %w", id, rerr), e.remove(id))
		}
	}
	if err != nil {
		return "", err
	}
	if err := waitReady(b.probe, addr, wait, every); err != nil {
		return "", fmt.Errorf("not answering at %s: %w", addr, err)
	}
	return b.value(addr), nil
}

// waitReady probes addr every so often until probe succeeds or wait has
// passed, and then returns probe's last error.
func waitReady(probe func(addr string) error, addr string, wait, every time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := probe(addr)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(every)
	}
}

// stop removes the containers listed in the file state, then the file. A
// missing file means start created nothing.
func stop(state string, connect func() (engine, error), stderr io.Writer) int {
	ids, err := readState(state)
	if err != nil {
		fmt.Fprintf(stderr, "dockerenv: %v\n", err)
		return 1
	}
	if len(ids) > 0 {
		e, err := connect()
		if err != nil {
			fmt.Fprintf(stderr, "dockerenv: cannot remove containers %s: no Docker engine answered (%s); they stop on their own within %v\n",
				strings.Join(ids, ", "), redact(err.Error()), expireAfter)
			return 1
		}
		failed := false
		for _, id := range ids {
			if err := e.remove(id); err != nil {
				failed = true
				fmt.Fprintf(stderr, "dockerenv: removing container %s: %s\n", id, redact(err.Error()))
			}
		}
		if failed {
			return 1 // state stays, for another stop
		}
	}
	if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "dockerenv: %v\n", err)
		return 1
	}
	return 0
}

// appendState adds a container ID to the file state.
func appendState(state, id string) error {
	f, err := os.OpenFile(state, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, id)
	return errors.Join(err, f.Close())
}

// containerID is how Docker names a container in full; a line of the
// state file that is anything else (a container's name, say) is refused
// rather than passed to remove.
var containerID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// readState returns the container IDs the file state lists; none when it
// does not exist.
func readState(state string) ([]string, error) {
	data, err := os.ReadFile(state)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !containerID.MatchString(line) {
			return nil, fmt.Errorf("%s: %q is not a container ID", state, line)
		}
		ids = append(ids, line)
	}
	return ids, nil
}

// varNames lists the variables of bs, comma-separated.
func varNames(bs []backend) string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.envVar
	}
	return strings.Join(names, ", ")
}
