package storekit_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchauth/latch/store/storekit"
)

// A store's configuration embeds storekit.Options; its options are
// functions of a pointer to it, and its Open starts with Configure.
type kvConfig struct {
	storekit.Options
	prefix string
}

// KVOption configures a KVStore.
type KVOption func(*kvConfig) error

// KVWithErrorHook: the shared settings need one line each.
func KVWithErrorHook(f func(error)) KVOption { return storekit.WithErrorHook[*kvConfig](f) }

// KVWithPrefix: the store's own settings return a plain error; Apply and
// Configure make it the store's ErrInvalid.
func KVWithPrefix(p string) KVOption {
	return func(c *kvConfig) error {
		if p == "" {
			return errors.New("empty key prefix")
		}
		c.prefix = p
		return nil
	}
}

var errKVInvalid = errors.New("kvstore: invalid value")

var kvURLs = &storekit.URLSpec{
	Store:   "kvstore",
	Schemes: []string{"kv"},
	Params:  []string{"latch_prefix", storekit.ParamSweepInterval, storekit.ParamSweepGrace},
	Invalid: errKVInvalid,
}

// kvParams sets c from the store's own latch_ parameters.
func kvParams(c *kvConfig) func(*storekit.URL) error {
	return func(u *storekit.URL) error {
		if u.Has("latch_prefix") {
			return KVWithPrefix(u.Value("latch_prefix"))(c)
		}
		return nil
	}
}

func Example() {
	reported := make(chan error, 1)
	hook := func(err error) {
		select {
		case reported <- err:
		default:
		}
	}
	c := kvConfig{prefix: "latch:"} // the defaults
	u, err := storekit.Configure(kvURLs, "kv://app:s3cr3t-pw@db:7000/0?timeout=2s&latch_prefix=app1:&latch_sweep_interval=1ms",
		&c, kvParams(&c), KVWithErrorHook(hook))
	if err != nil {
		panic(err)
	}
	fmt.Println("for the driver:", u.Rest.Host+u.Rest.Path+"?"+u.Rest.RawQuery)
	fmt.Println("prefix", c.prefix, "sweep every", c.SweepInterval)

	// The driver's error quotes the URL: the store's error does not.
	fmt.Println(u.OpenError(errors.New("cannot reach kv://app:s3cr3t-pw@db:7000/0")))

	// The sweeper reports what fails to the error hook.
	sw := storekit.StartSweeper(c.SweepInterval, func(ctx context.Context) error {
		return errors.New("sweep failed")
	}, c.Report)
	fmt.Println("hook:", <-reported)
	sw.Stop()

	// A refused latch_ parameter is the store's ErrInvalid.
	var bad kvConfig
	_, err = storekit.Configure(kvURLs, "kv://db?latch_prefix=", &bad, kvParams(&bad), KVWithErrorHook(nil))
	fmt.Println(err)
	// Output:
	// for the driver: db:7000/0?timeout=2s
	// prefix app1: sweep every 1ms
	// kvstore: open kv://db:7000: cannot reach kv://app:xxxxx@db:7000/0
	// hook: sweep failed
	// kvstore: open kv://db: kvstore: invalid value: empty key prefix
}
