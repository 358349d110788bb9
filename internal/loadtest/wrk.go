package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// wrkScript makes each request carry the next token of the file named
// after wrk's "--", round-robin, so that the requests spread over every
// session.
const wrkScript = `
local tokens = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  i = math.random(#tokens) - 1
end
function request()
  i = i % #tokens + 1
  return wrk.format(nil, nil, {["Authorization"] = tokens[i]})
end
`

// ensureWrk finds wrk, installing Debian's package when it is missing and
// this is root.
func ensureWrk(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("wrk is not installed: apt-get install -y wrk (as root), then run again")
	}
	fmt.Fprintln(os.Stderr, "loadtest: wrk is missing; apt-get install -y wrk")
	if out, err := exec.CommandContext(ctx, "apt-get", "install", "-y", "wrk").CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get install -y wrk: %v\n%s", err, out)
	}
	return exec.LookPath("wrk")
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	rps    float64
	non2xx int    // answers that were not 2xx or 3xx
	errors string // wrk's socket errors line, if any
}

var (
	reqsPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	non2xx     = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockErrs   = regexp.MustCompile(`Socket errors:[^\n]*`)
)

// runWrk runs `wrk -t1 -c32 -d<duration>` against http://addr/protected
// with the tokens in tokensPath.
func runWrk(ctx context.Context, wrk, script, addr, tokensPath, duration string) (wrkResult, error) {
	out, err := exec.CommandContext(ctx, wrk, "-t1", "-c32", "-d"+duration, "-s", script,
		"http://"+addr+"/protected", "--", tokensPath).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads wrk's report.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	m := reqsPerSec.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := non2xx.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(string(m[1]))
	}
	r.errors = string(sockErrs.Find(out))
	return r, nil
}
