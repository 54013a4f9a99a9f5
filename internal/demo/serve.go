package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/server"
)

// serveLen is the data set the demo's server loads: 8 Mi float64, 64 MiB.
const serveLen = 8 << 20

// served is the demo's second part: a data server loads a data set that
// independent processes attach to by name, and removes the orphan of a
// creator killed with SIGKILL.
func (d *session) served(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "ndshm-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data, err := writeDataSet(filepath.Join(dir, "data.npy"))
	if err != nil {
		return err
	}
	name := fmt.Sprintf("ndshm-demo-data-%d", os.Getpid())
	fmt.Fprintf(d.out, "\nlifecycle: a data server owns blocks, others attach by name, orphans do not survive\n\n")
	srv := &server.Server{Socket: filepath.Join(dir, "ndshm.sock"), GCInterval: 100 * time.Millisecond}
	start := time.Now()
	if err := loadFile(srv, name, data); err != nil {
		return err
	}
	d.res.Lifecycle.Name, d.res.Lifecycle.Size = name, 8*serveLen
	ctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	// shutdown stops the server once and returns Serve's error.
	shutdown := sync.OnceValue(func() error { stop(); return <-done })
	defer shutdown()
	if err := d.listed(srv.Socket, name); err != nil {
		return err
	}
	d.step("6. a data server (what ndshm serve runs) loaded %s, 64 MiB, from a .npy file", name)(time.Since(start))
	if err := d.attachers(ctx, name); err != nil {
		return err
	}
	if err := d.orphan(); err != nil {
		return err
	}
	start = time.Now()
	if err := shutdown(); err != nil {
		return err
	}
	if _, err := ndshm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the server stopped but %s is still there: %v", name, err)
	}
	d.res.Lifecycle.Unlinked = true
	d.step("10. the server stopped and unlinked the block it owned")(time.Since(start))
	return nil
}

// loadFile has the server load the .npy file path as the block name.
func loadFile(srv *server.Server, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return srv.Load(name, f)
}

// listed asks the server, over its socket, for the block it serves.
func (d *session) listed(socket, name string) error {
	var c *server.Client
	var err error
	for range 100 { // Serve is starting in another goroutine
		if c, err = server.Dial(socket); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.Stat(name)
	if err != nil {
		return err
	}
	if info.Spec.Len() != serveLen || !info.CreatorAlive {
		return fmt.Errorf("server describes %s as %+v", name, info)
	}
	return nil
}

// writeDataSet writes 0, 1, 2, … as a float64 .npy file, through a
// block, the library's own way of making one.
func writeDataSet(path string) (string, error) {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{serveLen}})
	if err != nil {
		return "", err
	}
	defer b.Close()
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = float64(i)
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := b.WriteTo(f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// attachers has independent processes, a Go one and, if it can, a
// Python one, attach to the served block by name and sum it.
func (d *session) attachers(ctx context.Context, name string) error {
	want := float64(serveLen) * float64(serveLen-1) / 2
	start := time.Now()
	out, err := reexec.Command("demo-sum", name).Output()
	if err == nil {
		d.res.Lifecycle.GoSum, err = sumIs(out, want)
	}
	if err != nil {
		return fmt.Errorf("go attacher: %w", err)
	}
	d.step("7. an independent Go process attached by name and summed it: %.0f", want)(time.Since(start))
	start = time.Now()
	version, got, err := pySum(ctx, name)
	switch {
	case errors.Is(err, errNoNumPy):
		fmt.Fprintf(d.out, "8. (skipped: %v)\n", err)
		return nil
	case err != nil:
		return err
	case got != want:
		return fmt.Errorf("numpy's sum is %v, want %v", got, want)
	}
	d.res.Lifecycle.NumPy, d.res.Lifecycle.NumPySum = version, got
	d.step("8. an independent Python process (numpy %s) attached by name and summed it: %.0f", version, got)(time.Since(start))
	return nil
}

func sumIs(out []byte, want float64) (float64, error) {
	got, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || got != want {
		return got, fmt.Errorf("sum %q, want %.0f", out, want)
	}
	return got, nil
}

// Sum is the role "demo-sum": it attaches to the block args[0] and
// prints its sum, a process that knows nothing but a name.
func Sum(args []string) int {
	if len(args) != 1 {
		return reexec.Exit("demo-sum", errors.New("want one block name"))
	}
	return reexec.Exit("demo-sum", sum(args[0]))
}

func sum(name string) error {
	b, err := ndshm.Open(name)
	if err != nil {
		return err
	}
	defer b.Close()
	a, err := ndshm.View[float64](b)
	if err != nil {
		return err
	}
	xs, _ := a.Flat()
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	_, err = fmt.Println(strconv.FormatFloat(sum, 'f', -1, 64))
	return err
}

// Creator is the role "demo-creator": it makes the owned block args[0],
// says so, and waits to be killed.
func Creator(args []string) int {
	if len(args) != 1 {
		return reexec.Exit("demo-creator", errors.New("want one block name"))
	}
	return reexec.Exit("demo-creator", create(args[0]))
}

func create(name string) error {
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1 << 20}})
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Println("ready")
	time.Sleep(time.Minute)
	return errors.New("not killed")
}

// orphan kills a creator with SIGKILL, so that nothing unlinks its
// block, and waits for the server's GC to remove it.
func (d *session) orphan() error {
	name := fmt.Sprintf("ndshm-demo-orphan-%d", os.Getpid())
	cmd := reexec.Command("demo-creator", name)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if line != "ready\n" {
		ndshm.Unlink(name)
		return fmt.Errorf("creator said %q", line)
	}
	killed := time.Now()
	info, err := ndshm.Stat(name)
	if err != nil || !info.Orphan() {
		ndshm.Unlink(name)
		return fmt.Errorf("killed creator's block: %+v, %v", info, err)
	}
	fmt.Fprintf(d.out, "9. process %d created %s and was killed with SIGKILL: its block is an orphan\n", cmd.Process.Pid, name)
	for time.Since(killed) < 10*time.Second {
		if _, err := ndshm.Stat(name); errors.Is(err, fs.ErrNotExist) {
			d.res.Lifecycle.OrphanRemoved = time.Since(killed)
			d.step("   the server's GC removed the orphan after")(d.res.Lifecycle.OrphanRemoved)
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	ndshm.Unlink(name)
	return errors.New("the server did not remove the orphan within 10s")
}
