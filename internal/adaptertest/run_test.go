package adaptertest_test

import (
	"testing"

	"github.com/latchauth/latch/internal/adaptertest"
)

// TestNetHTTP pins the reference: latch's own middleware against the
// expected answers and answers.txt.
func TestNetHTTP(t *testing.T) { adaptertest.Run(t, adaptertest.NetHTTP) }
