package server_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
	"github.com/ndshm/ndshm/server"
)

// The default socket is in a directory of the user's own, never in /tmp
// itself, and Python's is Go's.
func TestDefaultSocket(t *testing.T) {
	for _, tc := range []struct{ xdg, want string }{
		{"/run/user/1234", "/run/user/1234/ndshm.sock"},
		{"", fmt.Sprintf("/tmp/ndshm-%d/ndshm.sock", os.Getuid())},
	} {
		t.Setenv("XDG_RUNTIME_DIR", tc.xdg)
		if got := server.DefaultSocket(); got != tc.want {
			t.Errorf("with XDG_RUNTIME_DIR=%q: %q, want %q", tc.xdg, got, tc.want)
		}
		out, err := shmtest.PythonCommand(t, "-c", "import ndshm; print(ndshm.default_socket())").Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("Python's with XDG_RUNTIME_DIR=%q: %q, %v; want %q", tc.xdg, got, err, tc.want)
		}
	}
}

func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := server.Dial(filepath.Join(dir, "nobody.sock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dial of no socket: %v", err)
	}
	c := dial(t, serve(t))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.List(); err == nil {
		t.Error("List on a closed client succeeded")
	}
}

// One client used by many goroutines: each request gets its own reply.
func TestClientConcurrent(t *testing.T) {
	c := dial(t, serve(t))
	var wg sync.WaitGroup
	errs := make(chan error, 8*3)
	for g := range 8 {
		wg.Go(func() {
			name := shmtest.Name()
			for i := range 3 {
				errs <- clRoundTrip(c, name, []int{g + 1, i + 1})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// clRoundTrip creates, checks, stats, attaches and drops one block.
func clRoundTrip(c *server.Client, name string, shape []int) error {
	info, err := c.Create(name, ndshm.Spec{DType: ndshm.Int64, Shape: shape})
	if err != nil {
		return err
	}
	if info.Name != name || info.Spec.Len() != shape[0]*shape[1] {
		return fmt.Errorf("create %s %v: got %+v", name, shape, info)
	}
	if info, err = c.Stat(name); err != nil || info.Spec.Shape[1] != shape[1] {
		return fmt.Errorf("stat %s: %+v, %v", name, info, err)
	}
	b, err := ndshm.Open(name)
	if err != nil {
		return err
	}
	b.Close()
	return c.Drop(name)
}

// A list longer than one 64 KiB message comes in several, joined.
func TestClientLongList(t *testing.T) {
	c := dial(t, serve(t))
	const n = 300 // each description is some 400 bytes
	want := map[string]bool{}
	for range n {
		name := shmtest.Name() + strings.Repeat("x", 100)
		if _, err := c.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}); err != nil {
			t.Fatal(err)
		}
		want[name] = true
	}
	infos, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, info := range infos {
		if want[info.Name] {
			got++
		}
	}
	if got != n {
		t.Errorf("list has %d of the server's %d blocks (of %d in all)", got, n, len(infos))
	}
}

func TestServerErrors(t *testing.T) {
	c := dial(t, serve(t))
	name := shmtest.Name()
	if _, err := c.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		err  error
		is   error
		code string
	}{
		{"create of a taken name", second(c.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})), fs.ErrExist, "exist"},
		{"stat of no block", second(c.Stat(shmtest.Name())), fs.ErrNotExist, "not_exist"},
		{"get of no key", second(c.Get("no such key")), fs.ErrNotExist, "not_exist"},
		{"create with no dtype", second(c.Create(shmtest.Name(), ndshm.Spec{Shape: []int{1}})), ndshm.ErrDType, "dtype"},
		{"anon of a negative shape", second(c.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{-1}}, "")), nil, "bad_request"},
	} {
		var se *server.Error
		if !errors.As(tc.err, &se) || se.Code != tc.code || se.Message == "" ||
			tc.is != nil && !errors.Is(tc.err, tc.is) || !strings.HasPrefix(tc.err.Error(), "ndshm server: ") {
			t.Errorf("%s: %#v, want code %q matching %v", tc.what, tc.err, tc.code, tc.is)
		}
	}
	if err := c.Drop(name); err != nil {
		t.Errorf("drop after errors: %v", err)
	}
}

// The anonymous-block test's children: A makes and publishes the block,
// B, an unrelated process, gets it by key.
const anonSize = 64 << 20

func clPattern(i int) byte { return byte(i*7 + i>>12) }

func init() {
	// anon-a publishes a 64 MiB block under "k", fills it, prints
	// "ready DEV INO", and after a line on stdin checks B's answer.
	roles["anon-a"] = func(args []string) int {
		c, err := server.Dial(args[0])
		if err != nil {
			return clFail(err)
		}
		defer c.Close()
		b, err := c.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{anonSize}}, "k")
		if err != nil {
			return clFail(err)
		}
		defer b.Close()
		data := b.Bytes()
		for i := range data {
			data[i] = clPattern(i)
		}
		f, err := b.File()
		if err != nil {
			return clFail(err)
		}
		st, _ := f.Stat()
		f.Close()
		id := st.Sys().(*syscall.Stat_t)
		fmt.Printf("ready %d %d\n", id.Dev, id.Ino)
		bufio.NewReader(os.Stdin).ReadString('\n')
		if string(data[:13]) != "answer from B" || data[anonSize-1] != 0xB {
			return clFail(fmt.Errorf("no answer from B: %q", data[:13]))
		}
		fmt.Println("ok")
		return 0
	}
	// anon-b gets "k", checks A's pattern and writes its answer.
	roles["anon-b"] = func(args []string) int {
		c, err := server.Dial(args[0])
		if err != nil {
			return clFail(err)
		}
		defer c.Close()
		b, err := c.Get("k")
		if err != nil {
			return clFail(err)
		}
		defer b.Close()
		data := b.Bytes()
		for i := range data {
			if data[i] != clPattern(i) {
				return clFail(fmt.Errorf("byte %d is %d, A wrote %d", i, data[i], clPattern(i)))
			}
		}
		copy(data, "answer from B")
		data[anonSize-1] = 0xB
		return 0
	}
}

func clFail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// Two unrelated processes map the same anonymous block through the
// server, and once both have exited its memory is gone.
func TestAnonAcrossProcesses(t *testing.T) {
	socket := serve(t)
	base := clShmem(t)
	a := command("anon-a", socket)
	toA, _ := a.StdinPipe()
	fromA, _ := a.StdoutPipe()
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if a.ProcessState == nil {
			a.Process.Kill()
			a.Wait()
		}
	}()
	r := bufio.NewReader(fromA)
	var id sys.FileID
	if _, err := fmt.Fscanf(r, "ready %d %d\n", &id.Dev, &id.Ino); err != nil {
		t.Fatalf("A: %v", err)
	}
	held := clShmem(t)
	if err := command("anon-b", socket).Run(); err != nil {
		t.Fatalf("B: %v", err)
	}
	users := sys.Users()[id]
	if !slices.Contains(users, a.Process.Pid) || !slices.Contains(users, os.Getpid()) {
		t.Errorf("while A and the server hold it, the block's users are %v", users)
	}
	toA.Write([]byte("check\n"))
	if line, _ := r.ReadString('\n'); line != "ok\n" {
		t.Fatalf("A read back %q", line)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("A: %v", err)
	}
	// Nobody maps or holds it now: not A, not B, not the server.
	var after int64
	start := time.Now()
	for deadline := start.Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		after = clShmem(t)
		users = sys.Users()[id]
		if len(users) == 0 && held-after > anonSize*3/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memfd users %v; Shmem %d MiB before, %d MiB held, %d MiB after", users, base>>20, held>>20, after>>20)
		}
	}
	t.Logf("Shmem: %d MiB before, +%d MiB with the block, -%d MiB %v after A exited",
		base>>20, (held-base)>>20, (held-after)>>20, time.Since(start).Round(time.Millisecond))
}

// clShmem returns Shmem from /proc/meminfo, in bytes: every tmpfs and
// memfd page in the system.
func clShmem(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Shmem:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	t.Fatal("no Shmem in /proc/meminfo")
	return 0
}

// A structured dtype goes to the server as its Python literal and comes
// back the same.
func TestClientStructured(t *testing.T) {
	c := dial(t, serve(t))
	var sp ndshm.Spec // a structured dtype, as a client gets one from a request
	if err := json.Unmarshal([]byte(`{"dtype": "[('t', '<M8[us]'), ('xy', '<f4', (2,)), ('tag', '|S3')]", "shape": []}`), &sp); err != nil || sp.DType.Size() != 19 {
		t.Fatalf("structured dtype: %v, %v", sp.DType, err)
	}
	dt := sp.DType
	name := shmtest.Name()
	info, err := c.Create(name, ndshm.Spec{DType: dt, Shape: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Spec.DType.Equal(dt) || !stat(t, name).Equal(dt) {
		t.Errorf("server made %v, want %v", info.Spec.DType, dt)
	}
	b, err := c.Anon(ndshm.Spec{DType: dt, Shape: []int{2, 2}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.DType().Equal(dt) || len(b.Bytes()) != 4*19 {
		t.Errorf("anonymous block of %v: %v, %d bytes", dt, b.DType(), len(b.Bytes()))
	}
}

// stat returns the dtype of the named block, as this process opens it.
func stat(t *testing.T, name string) ndshm.DType {
	t.Helper()
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return info.Spec.DType
}
