package server_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm/server"
)

func init() {
	// full loads the .npy file args[0] as args[1] into a 1 MiB /dev/shm
	// of its own: the load must fail with ENOSPC and leave nothing.
	roles["full"] = func(args []string) int {
		if err := privateShm("1m"); err != nil {
			return noIsolation(err)
		}
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		srv := &server.Server{}
		err = srv.Load(args[1], f)
		left, _ := os.ReadDir("/dev/shm")
		if !errors.Is(err, syscall.ENOSPC) || len(left) > 0 {
			fmt.Fprintf(os.Stderr, "load into a full /dev/shm: %v, and it holds %v; want ENOSPC and nothing\n", err, left)
			return 1
		}
		fmt.Println(err)
		return 0
	}
}

func TestLoadFull(t *testing.T) {
	npy := writeNPY(t, 4<<20/8) // 4 MiB
	cmd := command("full", npy, "big")
	var out strings.Builder
	cmd.Stdout = &out
	if err := runIsolated(t, cmd); err != nil {
		t.Fatalf("loading 4 MiB into a 1 MiB /dev/shm: %v", err)
	}
	t.Logf("the error: %s", strings.TrimSpace(out.String()))
}
