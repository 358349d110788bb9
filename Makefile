# Every module of the repository is tied together by go.work, so one
# package pattern reaches them all.
PKGS      := github.com/latchauth/latch/...
TESTFLAGS ?=

.PHONY: test vet fmt seed fuzz

## test: run every test of every module
test:
	go test $(TESTFLAGS) $(PKGS)

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
