package storekit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store/storekit"
)

// config and Option are a store's, as the package doc shows.
type config struct {
	storekit.Options
	prefix string
}

type Option func(*config) error

var errInvalid = errors.New("kvstore: invalid value")

func withPrefix(p string) Option {
	return func(c *config) error {
		if p == "" {
			return errors.New("empty prefix")
		}
		c.prefix = p
		return nil
	}
}

func TestApply(t *testing.T) {
	var hooked error
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := config{Options: storekit.Options{SweepInterval: time.Minute}}
	err := storekit.Apply(&c, errInvalid,
		withPrefix("app_"),
		storekit.WithErrorHook[*config](func(err error) { hooked = err }),
		storekit.WithClock[*config](func() time.Time { return at }),
		storekit.WithClock[*config](nil), // leaves the clock alone
		storekit.WithSweepInterval[*config](0),
		storekit.WithSweepGrace[*config](time.Second),
		nil, // skipped
	)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if c.prefix != "app_" || c.SweepInterval != 0 || c.SweepGrace != time.Second || !c.Now().Equal(at) {
		t.Errorf("config after Apply: %+v, now %v", c, c.Now())
	}
	boom := errors.New("boom")
	c.Report(boom)
	c.Report(nil)
	if hooked != boom {
		t.Errorf("the hook got %v, want boom", hooked)
	}

	var zero storekit.Options
	zero.Report(boom) // no hook: discarded
	if d := time.Since(zero.Now()); d < 0 || d > time.Minute {
		t.Errorf("Now without a clock is %v away from time.Now", d)
	}
}

func TestApplyRefusals(t *testing.T) {
	for name, o := range map[string]Option{
		"negative interval": Option(storekit.WithSweepInterval[*config](-time.Second)),
		"negative grace":    Option(storekit.WithSweepGrace[*config](-time.Second)),
		"store's own":       withPrefix(""),
	} {
		var c config
		err := storekit.Apply(&c, errInvalid, withPrefix("first_"), o, withPrefix("never_"))
		if !errors.Is(err, errInvalid) || !strings.HasPrefix(err.Error(), "kvstore: invalid value: ") {
			t.Errorf("%s: Apply = %v, want kvstore's ErrInvalid", name, err)
		}
		if c.prefix != "first_" {
			t.Errorf("%s: options after the refused one ran", name)
		}
	}
	// An option that names ErrInvalid itself is not wrapped twice.
	err := storekit.Apply(&config{}, errInvalid, Option(func(*config) error { return errInvalid }))
	if err != errInvalid {
		t.Errorf("Apply = %v, want errInvalid as it was", err)
	}
}
