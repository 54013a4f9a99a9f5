package pool_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
