# Every module of the repository is tied together by go.work, so one
# package pattern reaches them all. Narrow it on the command line:
# make test PKGS=github.com/latchauth/latch/token/...
PKGS      := github.com/latchauth/latch/...
TESTFLAGS ?=

# bash with pipefail, so a pipeline fails when any of its commands does.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: test vet fmt seed fuzz

## test: run every test of every module; besides go test's usual
## output it shows each "testenv: ... unavailable" skip and each
## "conformance: ..." summary (internal/cmd/testreport)
test:
	@bin=$$(mktemp -d) && trap 'rm -rf "$$bin"' EXIT && \
	go build -o "$$bin/testreport" ./internal/cmd/testreport && \
	echo "go test -json $(TESTFLAGS) $(PKGS) | testreport" && \
	go test -json $(TESTFLAGS) $(PKGS) | "$$bin/testreport"

## vet: go vet every module
vet:
	go vet $(PKGS)

## fmt: fail if any file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

## seed: run the walkthrough example
seed:
	go run ./examples/seed

## fuzz: a short run of every fuzz target (FUZZTIME per target); a
## failing input is saved under the package's testdata/fuzz for go test
FUZZTIME ?= 10s
fuzz:
	@set -e; for pkg in $$(go list $(PKGS)); do \
		for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done
