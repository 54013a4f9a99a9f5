package bench

import (
	"fmt"
	"os"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// freshFill makes a new block of n bytes and copies them in from a
// warm 4 MiB buffer, as a pull does from each batch, with no network:
// what landing n bytes in new shared memory costs on this machine,
// which a pull pays and the raw TCP copy, reading into one buffer over
// and over, does not. The block is not persistent: Close removes it.
func freshFill(n int64) (flightRow, error) {
	src := make([]byte, tcpBuf)
	for i := range src {
		src[i] = byte(i)
	}
	name := fmt.Sprintf("ndshm-bench-flight-fill-%d", os.Getpid())
	fill := func(b *ndshm.Block) error {
		for p := b.Bytes(); len(p) > 0; p = p[copy(p, src):] {
		}
		return nil
	}
	t0, cpu0 := time.Now(), sys.CPUTime()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{int(n)}}, ndshm.Init(fill))
	took, cpu := time.Since(t0).Seconds(), (sys.CPUTime() - cpu0).Seconds()
	if err != nil {
		return flightRow{}, fmt.Errorf("fresh block fill: %w", err)
	}
	if err := b.Close(); err != nil {
		return flightRow{}, err
	}
	gb := float64(n) / 1e9
	return flightRow{Method: "fresh-block-fill", Size: n, Secs: took, Rate: float64(n) / took,
		RecvCopies: 1, RecvCPU: cpu * 1e9 / gb}, nil
}
