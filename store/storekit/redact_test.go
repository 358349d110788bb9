package storekit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/latchauth/latch/store/storekit"
)

func TestRedact(t *testing.T) {
	inner := fmt.Errorf("dial redis://:s3cr3t-pw@db:6379: %w", context.Canceled)
	err := storekit.Redact(fmt.Errorf("%w: %w", errInvalid, inner), "s3cr3t-pw", "redis://:s3cr3t-pw@db:6379")
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("Redact = %q: the secret is not hidden", err)
	}
	if !errors.Is(err, errInvalid) || !errors.Is(err, context.Canceled) {
		t.Errorf("Redact = %v: errors.Is lost the chain", err)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("Redact's error unwraps to %q", errors.Unwrap(err))
	}
	var target interface{ Unwrap() error }
	if errors.As(err, &target) {
		t.Errorf("errors.As reached %v, which holds the secret", target)
	}

	// A secret only a wrapped error's text holds is found too.
	hidden := &quiet{fmt.Errorf("parse %q", "s3cr3t-pw")}
	if err := storekit.Redact(hidden, "s3cr3t-pw"); err == error(hidden) {
		t.Error("Redact returned an error whose chain holds the secret")
	}

	// Nothing to hide: the error comes back as it was, chain and all.
	plain := fmt.Errorf("connect: %w", context.DeadlineExceeded)
	if err := storekit.Redact(plain, "s3cr3t-pw", ""); err != plain {
		t.Errorf("Redact = %v, want the error unchanged", err)
	}
	if storekit.Redact(nil, "x") != nil {
		t.Error("Redact(nil) is not nil")
	}
}

// quiet hides its cause from its own text.
type quiet struct{ err error }

func (q *quiet) Error() string { return "failed" }
func (q *quiet) Unwrap() error { return q.err }

// TestRedactShort: a short secret is hidden where a URL holds a password,
// and the rest of the message is left whole.
func TestRedactShort(t *testing.T) {
	err := storekit.Redact(errors.New("dial redis://:pw@127.0.0.1:1: connect: connection refused"), "pw")
	want := "dial redis://:xxxxx@127.0.0.1:1: connect: connection refused"
	if err.Error() != want {
		t.Errorf("Redact = %q, want %q", err, want)
	}
	plain := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	if err := storekit.Redact(plain, "1", "co"); err != plain {
		t.Errorf("Redact of a message holding no \":secret@\" = %q", err)
	}
}
