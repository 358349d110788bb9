package conformance_test

import (
	"flag"
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store/memstore"
)

// TestBenchmark runs Benchmark briefly on memstore: every operation it
// measures must succeed, and WithSettle's function must run.
func TestBenchmark(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("20x"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.Value.Set(old) })

	settled := false
	r := testing.Benchmark(func(b *testing.B) {
		conformance.Benchmark(b, memstore.New(), conformance.WithSettle(func(*testing.B) { settled = true }))
	})
	if r.N == 0 {
		t.Fatal("Benchmark failed or did not run")
	}
	if !settled {
		t.Error("WithSettle's function was not called")
	}
}
