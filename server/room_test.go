package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/server"
)

// An anonymous block over the server's limit is refused with no_space,
// before any memory is reserved, and the server keeps answering.
func TestAnonLimit(t *testing.T) {
	srv := newServer(t)
	srv.MaxAnon = 1 << 20
	stop := start(t, srv)
	defer stop()
	c := dial(t, srv.Socket)
	_, err := c.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4 << 20}}, "")
	var se *server.Error
	if !errors.As(err, &se) || se.Code != "no_space" || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "--max-anon") {
		t.Errorf("anon of 4 MiB with a 1 MiB limit: %v; want no_space naming --max-anon", err)
	}
	b, err := c.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{64 << 10}}, "")
	if err != nil {
		t.Fatalf("anon of 64 KiB after a refusal: %v", err)
	}
	b.Close()
	if _, err := c.List(); err != nil {
		t.Errorf("list after a refusal: %v", err)
	}
}

func init() {
	// anon-in-cgroup waits for a line on stdin (its parent moves it into
	// a memory cgroup meanwhile), then serves on args[0] with no limit
	// of its own and asks itself for an anonymous block of args[1] bytes.
	roles["anon-in-cgroup"] = func(args []string) int {
		bufio.NewReader(os.Stdin).ReadString('\n')
		n, _ := strconv.Atoi(args[1])
		srv := &server.Server{Socket: args[0], GCInterval: -1, MaxAnon: -1}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		defer func() { cancel(); <-done }()
		var c *server.Client
		var err error
		for range 5000 {
			if c, err = server.Dial(args[0]); err == nil {
				break
			}
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer c.Close()
		_, err = c.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{n}}, "")
		fmt.Println(err)
		if _, lerr := c.List(); lerr != nil {
			fmt.Println("list:", lerr)
		}
		return 0
	}
}

// A server in a 256 MiB memory cgroup asked for a 1 GiB anonymous block
// replies no_space instead of being killed, whatever its own limit.
func TestAnonInCgroup(t *testing.T) {
	dir := memCgroup(t, 256<<20)
	cmd := command("anon-in-cgroup", filepath.Join(t.TempDir(), "s.sock"), strconv.Itoa(1<<30))
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := os.WriteFile(dir+"/cgroup.procs", []byte(strconv.Itoa(cmd.Process.Pid)), 0)
	in.Write([]byte("go\n"))
	got, _ := bufio.NewReader(out).ReadString('\n')
	werr := cmd.Wait()
	if err != nil {
		t.Fatalf("moving the server into the cgroup: %v", err)
	}
	if werr != nil || !strings.Contains(got, "of memory is free: no space left on device") {
		t.Errorf("1 GiB anon in a 256 MiB cgroup: %q, exit %v; want no_space, and the server alive", got, werr)
	}
}

// memCgroup makes a memory cgroup limited to limit bytes below this
// process's own (v1 or v2), removed when the test ends, or skips.
func memCgroup(t *testing.T, limit int64) string {
	t.Helper()
	b, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var root, limitFile string
		switch {
		case f[1] == "memory" || strings.Contains(","+f[1]+",", ",memory,"):
			root, limitFile = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		case f[0] == "0" && f[1] == "":
			root, limitFile = "/sys/fs/cgroup", "memory.max"
		default:
			continue
		}
		dir := filepath.Join(root, f[2], fmt.Sprintf("ndshm-test-%d", os.Getpid()))
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		t.Cleanup(func() { os.Remove(dir) })
		// A cgroup file system makes the files; a plain directory (the
		// tmpfs of a hybrid hierarchy's root) is no cgroup.
		lf, err := os.OpenFile(dir+"/"+limitFile, os.O_WRONLY, 0)
		if err != nil {
			os.Remove(dir)
			continue
		}
		_, err = lf.WriteString(strconv.FormatInt(limit, 10))
		if err = errors.Join(err, lf.Close()); err != nil {
			continue
		}
		return dir
	}
	t.Skip("no memory cgroup to make here (needs root and cgroup v1 or v2 with the memory controller)")
	return ""
}
