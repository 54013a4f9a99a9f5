package main

import (
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

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/progress"
	"github.com/ndshm/ndshm/internal/specflag"
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
JSON object instead: {"time" (RFC 3339),"msg"}.

--flight HOST:PORT also serves the blocks of this host over Apache Arrow
Flight (gRPC, docs/FLIGHT.md), for ndshm pull and push on other hosts and
for any Flight client (pyarrow.flight): list, describe and read blocks,
and push new ones, which become this server's own. Plaintext is allowed
only on a loopback address unless --flight-insecure; give
--flight-tls-cert and --flight-tls-key for TLS, and --flight-token to
require a bearer token of every call.`

// A load is one --load NAME=FILE.npy.
type load struct{ name, file string }

// runServe is `ndshm serve`.
func runServe(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "serve", "serve [--socket PATH] [--load NAME=FILE.npy]... [--gc-interval 2s] [--max-anon SIZE] [--mode 0600] [--flight HOST:PORT [--flight-tls-cert FILE --flight-tls-key FILE] [--flight-token TOKEN] [--flight-insecure]] [--json]", serveAbout)
	socket := f.String("socket", server.DefaultSocket(), "listen on the unix socket `PATH`")
	every := f.Duration("gc-interval", 2*time.Second, "remove orphans this often; 0 never")
	var maxAnon int64
	f.Func("max-anon", "refuse anonymous blocks larger than `SIZE` (64MiB, 2GiB; default: half the memory free at start)", func(v string) error {
		n, err := human.ParseBytes(v)
		maxAnon = int64(n)
		return err
	})
	var mode specflag.Mode
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
	fl := newFlightServe(f)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos); err != nil {
		return err
	}
	bar := progress.New(e.stderr, "loading")
	logf := newLogf(e.stderr, *asJSON)
	srv := &server.Server{Socket: *socket, GCInterval: *every, MaxAnon: maxAnon, Logf: func(format string, args ...any) {
		bar.Clear()
		logf(format, args...)
	}}
	srv.Perm = mode.Perm()
	if *every <= 0 {
		srv.GCInterval = -1 // the flag's 0 is the server's never
	}
	for _, l := range loads {
		if err := loadFile(ctx, srv, l, bar); err != nil {
			bar.Clear()
			return errors.Join(err, srv.Close())
		}
	}
	err = serveBoth(ctx, srv, fl, logf)
	if err == nil {
		logf("stopped: blocks removed, %s removed", *socket)
	}
	return err
}

// serveBoth runs srv, and the Flight server the flags ask for over the
// same blocks (blocks pushed to it are srv's own), until ctx ends or
// either fails.
func serveBoth(ctx context.Context, srv *server.Server, fl flightServe, logf func(string, ...any)) error {
	fsrv, err := fl.server(srv.Load, logf)
	if err != nil || fsrv == nil {
		return errors.Join(err, srv.Serve(ctx))
	}
	ln, err := fsrv.Listen(*fl.addr)
	if err != nil {
		return errors.Join(err, srv.Close())
	}
	logf("flight on %s", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		err := fsrv.Serve(ctx, ln)
		cancel() // a failed Flight server stops the whole
		done <- err
	}()
	err = srv.Serve(ctx)
	cancel()
	return errors.Join(err, <-done)
}

// loadFile loads one --load into the server, through a reader that
// counts for the progress bar and gives up when ctx ends.
func loadFile(ctx context.Context, srv *server.Server, l load, bar *progress.Bar) error {
	f, err := os.Open(l.file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := progress.NewReader(ctx, f, l.file, bar)
	if fi, err := f.Stat(); err == nil {
		bar.Start(l.name, fi.Size())
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
