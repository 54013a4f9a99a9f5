package pool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
)

// A block closed since the pool last worked on it is closed whatever
// its size: an empty block's data is nil while open, too, so its data
// cannot tell.
func TestClosedSinceLastMap(t *testing.T) {
	p := newProcs(t, 1)
	for _, n := range []int{0, 1, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			b, _ := ones(t, n)
			if err := p.Map(context.Background(), b, "sqrt"); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if err := p.Map(context.Background(), b, "sqrt"); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Map of a %d-element block closed since its last Map: %v, want os.ErrClosed", n, err)
			}
		})
	}
}
