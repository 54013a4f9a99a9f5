package ring_test

import (
	"bytes"
	"fmt"
	"testing"
)

type counts struct{ recv, missed, bad, torn, disorder uint64 }

// A result is what a reader process reports (see readRole).
type result struct {
	counts
	seen []byte // bit s: frame s received intact
}

func parse(t *testing.T, out []byte, n int) result {
	t.Helper()
	var g result
	i := bytes.IndexByte(out, '\n')
	if i < 0 {
		t.Fatalf("reader said %q", out)
	}
	if _, err := fmt.Sscan(string(out[:i]), &g.recv, &g.missed, &g.bad, &g.torn, &g.disorder); err != nil {
		t.Fatalf("reader said %q: %v", out[:i], err)
	}
	if g.seen = out[i+1:]; len(g.seen) != (n+7)/8 {
		t.Fatalf("reader's bitmap has %d bytes, want %d", len(g.seen), (n+7)/8)
	}
	return g
}

func (g result) count() (c int) {
	for _, b := range g.seen {
		for ; b != 0; b &= b - 1 {
			c++
		}
	}
	return c
}

// checkDisjoint checks that no frame went to both readers.
func checkDisjoint(t *testing.T, res []result) {
	t.Helper()
	for i := range res[0].seen {
		if both := res[0].seen[i] & res[1].seen[i]; both != 0 {
			t.Fatalf("frames near %d went to both readers (%08b)", i*8, both)
		}
	}
}
