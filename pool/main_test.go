package pool_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/pool"
)

func TestMain(m *testing.M) {
	pool.WorkerMain() // worker processes are this test binary
	shmtest.Main(m, roles)
}

// roles are workers that misbehave, for the failure tests, and a parent
// to kill.
var roles = map[string]func(args []string) int{
	// parent starts a pool of two, with "busy" keeps them busy, prints
	// their pids and waits to be killed.
	"parent": func(args []string) int {
		p, err := pool.New(2)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if len(args) > 0 && args[0] == "busy" {
			b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{2}})
			if err != nil {
				return 1
			}
			go p.Map(context.Background(), b, "test-sleep=60")
			time.Sleep(300 * time.Millisecond)
		}
		fmt.Println(strings.Trim(fmt.Sprint(p.Pids()), "[]"))
		time.Sleep(time.Minute)
		return 0
	},
	// badhello sends garbage instead of a hello.
	"badhello": func([]string) int { return speak("garbage!") },
	// garbage says hello, then answers every frame with garbage.
	"garbage": func([]string) int { return speak(hello(), "\x01Rjunk") },
	// oversize says hello, then answers with a packet too long for any frame.
	"oversize": func([]string) int { return speak(hello(), strings.Repeat("x", 100000)) },
	// mute says hello, then never answers.
	"mute": func([]string) int { return speak(hello()) },
	// closer says hello, then closes its channel at the first task but
	// lives on.
	"closer": func([]string) int {
		fd3 := os.NewFile(3, "pool")
		fd3.Write([]byte(hello()))
		for b := make([]byte, 1024); b[1] != 'T'; {
			if n, _ := fd3.Read(b); n == 0 {
				return 1
			}
		}
		fd3.Close()
		time.Sleep(time.Minute)
		return 0
	},
	// forker says hello, then at the first frame leaves a child holding
	// its channel, and exits: the pool must see it die without EOF.
	"forker": func([]string) int {
		fd3 := os.NewFile(3, "pool")
		fd3.Write([]byte(hello()))
		fd3.Read(make([]byte, 1024))
		child := shmtest.Command("holder")
		child.ExtraFiles = []*os.File{fd3}
		if err := child.Start(); err != nil {
			return 1
		}
		return 3
	},
	// holder holds fd 3 until it reads EOF on it.
	"holder": func([]string) int {
		os.NewFile(3, "pool").Read(make([]byte, 1024))
		return 0
	},
}

// hello is a worker's first frame, built here from the documented layout.
func hello() string {
	b := make([]byte, 8)
	b[0], b[1] = 1, 'H'
	binary.LittleEndian.PutUint32(b[4:], uint32(os.Getpid()))
	return string(b)
}

// speak sends first on fd 3, then answers every packet with reply (or
// not at all if reply is empty), until EOF.
func speak(first string, reply ...string) int {
	fd3 := os.NewFile(3, "pool")
	fd3.Write([]byte(first))
	buf := make([]byte, 1024)
	for {
		if n, err := fd3.Read(buf); n == 0 || err != nil {
			return 0
		}
		for _, r := range reply {
			fd3.Write([]byte(r))
		}
	}
}

// roleCommand returns a pool.Command option for a misbehaving worker.
func roleCommand(role string) pool.Option {
	return pool.Command(func() *exec.Cmd { return shmtest.Command(role) })
}

// newProcs starts a process pool closed when the test ends.
func newProcs(t testing.TB, n int, opts ...pool.Option) *pool.Pool {
	t.Helper()
	p, err := pool.New(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return p
}

// newBlock makes a block, named or anonymous, closed when the test ends.
func newBlock(t testing.TB, s ndshm.Spec, anon bool) *ndshm.Block {
	t.Helper()
	var b *ndshm.Block
	var err error
	if anon {
		b, err = ndshm.CreateAnon(s)
	} else {
		b, err = ndshm.Create(shmtest.Name(), s)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// seqOf returns the number shmtest.Name put at the end of a name, which
// test ops turn back into the name with their parent's pid.
func seqOf(t testing.TB, name string) float64 {
	i := strings.LastIndexByte(name, '-')
	n, err := strconv.Atoi(name[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return float64(n)
}

// Ops for the tests, registered in init so that worker processes (this
// test binary) have them too.
func init() {
	// stall sets elements to 7 (idempotent); stall-unsafe adds 1 (not).
	// Armed through a control block, the first task to see it writes
	// half its partition, publishes its pid and hangs, to be killed.
	pool.Register("test-stall", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		return stall(a, p, func(float64) float64 { return 7 })
	}, pool.Idempotent())
	pool.Register("test-stall-unsafe", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		return stall(a, p, func(x float64) float64 { return x + 1 })
	})
	pool.Register("test-sleep", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		time.Sleep(time.Duration(p[0] * float64(time.Second)))
		return pool.Stats{}, nil
	})
	pool.Register("test-gomaxprocs", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{Count: 1, Sum: float64(runtime.GOMAXPROCS(0))}, nil
	}, pool.ReadOnly())
	pool.Register("test-panic", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		var m map[string]int
		m["x"] = 1 // a nil map: a real runtime panic
		return pool.Stats{}, nil
	})
	pool.Register("test-fail", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{}, errors.New("the op says no")
	})
	pool.Register("test-positive", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{}, nil
	}, pool.Validate(func(p pool.Params) error {
		if len(p) != 1 || p[0] <= 0 {
			return errors.New("test-positive takes one positive parameter")
		}
		return nil
	}))
	pool.Register("test-negate", negate[float64])
	pool.Register("test-negate", negate[int32])
}

// negate works element by element through At and Set, as an op written
// without regard for memory order does, on any number of dimensions.
func negate[T int32 | float64](a ndshm.Array[T], _ pool.Params) (pool.Stats, error) {
	forEachIndex(a.Shape(), func(idx []int) { a.Set(-a.At(idx...), idx...) })
	return pool.Stats{Count: int64(a.Len())}, nil
}

// forEachIndex calls f with every index of an array of the given shape,
// last axis fastest.
func forEachIndex(shape []int, f func(idx []int)) {
	for _, d := range shape {
		if d == 0 {
			return
		}
	}
	idx := make([]int, len(shape))
	for {
		f(idx)
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func stall(a ndshm.Array[float64], p pool.Params, f func(float64) float64) (pool.Stats, error) {
	ctl, err := ndshm.Open(fmt.Sprintf("ndshm-test-%d-%d", os.Getppid(), int(p[0])))
	if err != nil {
		return pool.Stats{}, err
	}
	defer ctl.Close()
	c, err := ndshm.View[int64](ctl)
	if err != nil {
		return pool.Stats{}, err
	}
	armed := atomic.CompareAndSwapInt64(c.Addr(0), 1, 0)
	n := a.Dim(0)
	if armed {
		n /= 2
	}
	for i := range n {
		a.Set(f(a.At(i)), i)
	}
	if armed {
		atomic.StoreInt64(c.Addr(1), int64(os.Getpid()))
		time.Sleep(time.Minute)
	}
	return pool.Stats{Count: int64(n)}, nil
}
