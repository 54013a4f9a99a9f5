package bench_test

import (
	"testing"

	"github.com/ndshm/ndshm/internal/bench"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func TestMain(m *testing.M) {
	shmtest.Main(m, map[string]func([]string) int{"tcp-copy-peer": bench.TCPPeer})
}
