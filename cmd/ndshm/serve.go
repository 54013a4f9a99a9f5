package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ndshm/ndshm/server"
)

const serveAbout = `
Serves blocks to other processes over a unix socket (docs/PROTOCOL.md):
it lists and describes blocks, makes named blocks that it owns, and hands
out anonymous (memfd) blocks as file descriptors. Go programs connect with
server.Dial (github.com/ndshm/ndshm/server), Python ones with ndshm.Client.

--load NAME=FILE.npy, repeatable, copies each file into the block NAME
before serving. Every block the server makes is its own: it removes them
when it stops (SIGINT or SIGTERM, exit status 0), and if it is killed they
become orphans, which gc removes. A load that fails (a full /dev/shm, say)
stops it before it serves, with no block left behind.

A request for a block larger than the memory free (MemAvailable, or the
room left under the server's memory cgroup limit, less 64 MiB) is refused
with no_space, and so is an anonymous block larger than --max-anon
(default: half the memory free when the server starts): the server is
charged for the blocks it makes and would otherwise be killed.

--mode 0660 sets the permission bits of the socket and of the blocks the
server makes, exactly, whatever the umask (default 0600). Other users it
lets in can map the blocks themselves (ndshm.AllowForeign); the server
still answers only processes of its own user.

While serving it removes orphans every --gc-interval (0: never). It logs
loads, removals and refused requests to stderr (refusals at most 10 lines
per 10s, then a count of the rest), and shows a progress bar
while loading when stderr is a terminal. With --json each log line is a
JSON object instead: {"time" (RFC 3339),"msg"}.`

// A load is one --load NAME=FILE.npy.
type load struct{ name, file string }

// runServe is `ndshm serve`.
func runServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "serve", "serve [--socket PATH] [--load NAME=FILE.npy]... [--gc-interval 2s] [--max-anon SIZE] [--mode 0600] [--json]", serveAbout)
	socket := f.String("socket", server.DefaultSocket(), "listen on the unix socket `PATH`")
	every := f.Duration("gc-interval", 2*time.Second, "remove orphans this often; 0 never")
	var maxAnon int64
	f.Func("max-anon", "refuse anonymous blocks larger than `SIZE` (64MiB, 2GiB; default: half the memory free at start)", func(v string) error {
		n, err := parseSize(v)
		maxAnon = int64(n)
		return err
	})
	var mode modeValue
	f.Var(&mode, "mode", "the permission bits `MODE` of the socket and of the blocks the server makes, in octal; set exactly, whatever the umask")
	asJSON := f.Bool("json", false, "log JSON lines: {\"time\",\"msg\"}")
	var loads []load
	f.Func("load", "load `NAME=FILE.npy`, the .npy file FILE as the block NAME, before serving; repeatable", func(v string) error {
		name, file, ok := strings.Cut(v, "=")
		if !ok || name == "" || file == "" {
			return errors.New("want NAME=FILE.npy")
		}
		loads = append(loads, load{blockName(name), file})
		return nil
	})
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.want(pos); err != nil {
		return err
	}
	bar := newBar(e.stderr)
	logf := newLogf(e.stderr, *asJSON)
	srv := &server.Server{Socket: *socket, GCInterval: *every, MaxAnon: maxAnon, Logf: func(format string, args ...any) {
		bar.clear()
		logf(format, args...)
	}}
	srv.Perm = mode.perm
	if *every <= 0 {
		srv.GCInterval = -1 // the flag's 0 is the server's never
	}
	for _, l := range loads {
		if err := loadFile(ctx, srv, l, bar); err != nil {
			bar.clear()
			return errors.Join(err, srv.Close())
		}
	}
	err = srv.Serve(ctx)
	if err == nil {
		logf("stopped: blocks removed, %s removed", *socket)
	}
	return err
}

// loadFile loads one --load into the server, through a reader that
// counts for the progress bar and gives up when ctx ends.
func loadFile(ctx context.Context, srv *server.Server, l load, bar *bar) error {
	f, err := os.Open(l.file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := &counter{ctx: ctx, r: f, name: l.file, bar: bar}
	if fi, err := f.Stat(); err == nil {
		bar.start(l.name, fi.Size())
	}
	err = srv.Load(l.name, r)
	if err != nil {
		err = fmt.Errorf("load %s from %s: %w", l.name, l.file, err)
	}
	if errors.Is(err, syscall.ENOSPC) {
		err = fmt.Errorf("%w (/dev/shm is full: see df -h /dev/shm)", err)
	}
	return err
}

// A counter reads a file being loaded, in pieces small enough for the
// progress bar to move and for an interrupt to stop the load.
type counter struct {
	ctx  context.Context
	r    io.Reader
	name string
	bar  *bar
}

// Name is the file's name, which the server's log line shows.
func (c *counter) Name() string { return c.name }

func (c *counter) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	const piece = 4 << 20
	n, err := c.r.Read(p[:min(len(p), piece)])
	c.bar.add(int64(n))
	return n, err
}

// A bar is the one-line progress bar of the loads, redrawn in place with
// \r, on a terminal; elsewhere it draws nothing and the log lines say it
// all. It is safe for concurrent use: the server logs through clear.
type bar struct {
	mu          sync.Mutex
	w           io.Writer // nil when stderr is not a terminal
	verb        string    // "loading" when empty
	name        string
	total, done int64
	began, last time.Time
	shown       bool // a bar is on the screen
}

// newBar returns a bar that draws on w if w is a terminal.
func newBar(w io.Writer) *bar {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &bar{w: w}
		}
	}
	return &bar{}
}

// start begins the bar of a load of total bytes into the block name.
func (b *bar) start(name string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.name, b.total, b.done, b.began, b.last = name, total, 0, time.Now(), time.Time{}
}

// add counts n more bytes read, redrawing at most ten times a second.
func (b *bar) add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.w != nil && (time.Since(b.last) >= 100*time.Millisecond || b.total > 0 && b.done >= b.total) {
		b.draw()
	}
}

func (b *bar) draw() {
	const width = 30
	frac := min(float64(b.done)/float64(max(b.total, 1)), 1)
	rate := float64(b.done) / (1 << 20) / max(time.Since(b.began).Seconds(), 1e-9)
	verb := cmp.Or(b.verb, "loading")
	if b.total <= 0 { // a pipe: no end known
		fmt.Fprintf(b.w, "\r%s %s  %s  %.0f MiB/s\033[K", verb, b.name, humanBytes(b.done), rate)
	} else {
		fmt.Fprintf(b.w, "\r%s %s [%-*s] %3.0f%%  %s / %s  %.0f MiB/s\033[K", verb, b.name,
			width, strings.Repeat("=", int(frac*width)), 100*frac, humanBytes(b.done), humanBytes(b.total), rate)
	}
	b.last, b.shown = time.Now(), true
}

// clear erases the bar, if one is shown, so that a log line takes its place.
func (b *bar) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		fmt.Fprint(b.w, "\r\033[K")
		b.shown = false
	}
}

// newLogf is serve's log: lines as log.Printf writes them, or with
// asJSON one JSON object per line, {"time","msg"}.
func newLogf(w io.Writer, asJSON bool) func(format string, args ...any) {
	if !asJSON {
		return log.New(w, "", log.LstdFlags).Printf
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		l := logLine{Time: time.Now().Format(time.RFC3339Nano), Msg: fmt.Sprintf(format, args...)}
		mu.Lock()
		defer mu.Unlock()
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // dtypes read "<f8"
		enc.Encode(l)
	}
}

// logLine is one line of serve --json's log.
type logLine struct {
	Time string `json:"time"`
	Msg  string `json:"msg"`
}

// barWriter passes writes on to w and counts them on bar.
type barWriter struct {
	w   io.Writer
	bar *bar
}

func (b barWriter) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.bar.add(int64(n))
	return n, err
}
