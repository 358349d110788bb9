# Every module of the repository is tied together by go.work, so one
# package pattern reaches them all (the published modules, the examples,
# and the tool modules under internal/: dockerenv and usercheck). Narrow
# it on the command line:
# make test PKGS=github.com/latchauth/latch/token/...
PKGS      := github.com/latchauth/latch/...
TESTFLAGS ?=

# bash with pipefail, so a pipeline fails when any of its commands does.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: test vet fmt api apicheck seed fuzz staticcheck vulncheck usercheck spin load scale

## test: run every test of every module; besides go test's usual
## output it shows each "testenv: ... unavailable" skip and each
## "conformance: ..." summary (internal/cmd/testreport).
## Backends come from the LATCH_TEST_* variables (internal/testenv). When a
## Docker engine may be there (DOCKER_HOST set, or /var/run/docker.sock
## exists), internal/dockerenv first starts a container for each backend
## whose variable is unset and sets it; the containers are removed when
## the tests end, pass, fail or interrupt. Without Docker (CI), nothing of
## it is built or run.
test:
	@bin=$$(mktemp -d) && \
	trap '[ ! -x "$$bin/dockerenv" ] || "$$bin/dockerenv" stop "$$bin/containers"; rm -rf "$$bin"' EXIT && \
	trap 'exit 130' INT TERM && \
	go build -o "$$bin/testreport" ./internal/cmd/testreport && \
	if [ -n "$${DOCKER_HOST:-}" ] || [ -S /var/run/docker.sock ]; then \
		go build -o "$$bin/dockerenv" ./internal/dockerenv && \
		{ exports=$$("$$bin/dockerenv" start "$$bin/containers") || echo "dockerenv: not every backend started (see above)"; eval "$$exports"; }; \
	fi && \
	echo "go test -json $(TESTFLAGS) $(PKGS) | testreport" && \
	go test -json $(TESTFLAGS) $(PKGS) | "$$bin/testreport"

## vet: go vet every module
vet:
	go vet $(PKGS)

## staticcheck: staticcheck every module (fetched from the module proxy)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck:
	go run $(STATICCHECK) $(PKGS)

## vulncheck: govulncheck every module against an offline copy of the Go
## vulnerability database; see .ci/vulncheck and .ci/vulncheck-allow
vulncheck:
	.ci/vulncheck

## usercheck: play an outside user of every published module: serve the
## working tree's modules at v0.1.0 from a file-system module proxy, and
## require each from a fresh module outside the repository (no workspace,
## no replace), go mod tidy and build it, and judge its module graph
## (internal/usercheck; docs/releasing.md runs it before tagging)
usercheck:
	go run ./internal/usercheck

## spin: model-check the refresh protocol (docs/model/refresh.pml): each
## property must hold, each broken variant must fail its own with the
## trace kept in docs/model/traces (.ci/spin; needs spin and cc)
spin:
	.ci/spin

## fmt: fail if any file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## api: rewrite api/*.txt, the exported API of every published module,
## one line per exported name (internal/cmd/apicheck); commit the change
## with a message saying why the API changed
api:
	go run ./internal/cmd/apicheck -w

## apicheck: fail, with a diff, if the exported API differs from
## api/*.txt, a published module has no file or a file has no module
apicheck:
	go run ./internal/cmd/apicheck

## load: issue 15's load table: latch beside a bare handler and its peers,
## each server a process, `wrk -t1 -c32 -d3s` three rounds each, medians,
## PASS/FAIL per target (internal/loadtest; installs wrk with apt-get when
## missing). Backends from the LATCH_TEST_* variables; LOADFLAGS='-only
## bare,latch-jwt' narrows it. Not for CI: the figures are the machine's.
load:
	go run ./internal/loadtest $(LOADFLAGS)

## scale: sessions at 1,000 and at SIZE in Redis and PostgreSQL: lookup
## p50/p99, List and RevokeSubject of 10,000, memory and disk
SIZE ?= 1000000
scale:
	go run ./internal/loadtest -scale -size $(SIZE)

## seed: run the walkthrough example
seed:
	go run ./examples/seed

## fuzz: a short run of every fuzz target (FUZZTIME per target, through
## .ci/fuzz); a failing input is saved under the package's testdata/fuzz
## for go test.
## Targets are found with grep: go test -list would build every test
## binary once more.
FUZZTIME ?= 10s
fuzz:
	@set -e; for dir in $$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' $(PKGS)); do \
		for f in $$(cd "$$dir" && grep -ho '^func Fuzz[A-Za-z0-9_]*' *_test.go | cut -c6- | sort -u); do \
			.ci/fuzz "$$dir" "$$f" $(FUZZTIME); \
		done; \
	done
