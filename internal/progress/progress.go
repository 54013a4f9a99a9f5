// Package progress draws the one-line progress bar that ndshm's long
// commands (load, save, serve --load, map) show on stderr when it is a
// terminal, and provides the reader and writer that move it while they
// copy. Elsewhere (a file, a pipe, a test's buffer) a bar draws nothing.
package progress

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ndshm/ndshm/internal/human"
)

// A Bar is a one-line progress bar of bytes done, redrawn in place with
// \r at most ten times a second. It is safe for concurrent use: serve's
// log and a map's workers call it from several goroutines.
type Bar struct {
	mu          sync.Mutex
	w           io.Writer // nil when not a terminal: draws nothing
	verb        string    // "loading", "saving", "mapping"
	name        string
	total, done int64
	delay       time.Duration // draw nothing until this long after Start
	began, last time.Time
	shown       bool // a bar is on the screen
}

// New returns a bar that draws on w if w is a terminal, and otherwise
// draws nothing. verb says what is done to the bytes, as in
// "loading x [===   ]".
func New(w io.Writer, verb string) *Bar {
	if IsTerminal(w) {
		return &Bar{w: w, verb: verb}
	}
	return &Bar{verb: verb}
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Live reports whether the bar draws: whether its writer is a terminal.
func (b *Bar) Live() bool { return b.w != nil }

// SetDelay has the bar draw nothing until d after Start, so that a job
// that turns out short leaves no flicker; only long ones show a bar.
func (b *Bar) SetDelay(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delay = d
}

// Start begins the bar of total bytes for name; a total of 0 or less is
// unknown (a pipe), and the bar then shows the bytes so far.
func (b *Bar) Start(name string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.name, b.total, b.done, b.began, b.last = name, total, 0, time.Now(), time.Time{}
}

// Add counts n more bytes done, redrawing at most ten times a second,
// and at once when the total is reached.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.w == nil || time.Since(b.began) < b.delay {
		return
	}
	if time.Since(b.last) >= 100*time.Millisecond || b.total > 0 && b.done >= b.total {
		b.draw()
	}
}

func (b *Bar) draw() {
	const width = 30
	frac := min(float64(b.done)/float64(max(b.total, 1)), 1)
	rate := float64(b.done) / (1 << 20) / max(time.Since(b.began).Seconds(), 1e-9)
	if b.total <= 0 { // a pipe: no end known
		fmt.Fprintf(b.w, "\r%s %s  %s  %.0f MiB/s\033[K", b.verb, b.name, human.Bytes(b.done), rate)
	} else {
		fmt.Fprintf(b.w, "\r%s %s [%-*s] %3.0f%%  %s / %s  %.0f MiB/s\033[K", b.verb, b.name,
			width, strings.Repeat("=", int(frac*width)), 100*frac, human.Bytes(b.done), human.Bytes(b.total), rate)
	}
	b.last, b.shown = time.Now(), true
}

// Clear erases the bar, if one is shown, so that a log line or the
// shell's prompt takes its place.
func (b *Bar) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		fmt.Fprint(b.w, "\r\033[K")
		b.shown = false
	}
}

// A Reader reads a file being copied in pieces small enough for the bar
// to move and for a cancelled context to stop the copy soon.
type Reader struct {
	ctx  context.Context
	r    io.Reader
	name string
	bar  *Bar
}

// NewReader returns a Reader of r, which counts on bar and fails with
// ctx's error once ctx is done; name is what Name reports.
func NewReader(ctx context.Context, r io.Reader, name string, bar *Bar) *Reader {
	return &Reader{ctx: ctx, r: r, name: name, bar: bar}
}

// Name is the name of the file read, which the server's log shows.
func (r *Reader) Name() string { return r.name }

// Read reads at most 4 MiB of the file.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	const piece = 4 << 20
	n, err := r.r.Read(p[:min(len(p), piece)])
	r.bar.Add(int64(n))
	return n, err
}

// Len is how much of a regular file is left to read, so that
// ndshm.LoadReader refuses a file cut short before it reserves the size its
// header claims, as it does reading the file itself; math.MaxInt, which
// never refuses, when the underlying reader cannot tell (a pipe).
func (r *Reader) Len() int {
	f, ok := r.r.(*os.File)
	if !ok {
		return math.MaxInt
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return math.MaxInt
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return math.MaxInt
	}
	return int(fi.Size() - off)
}

// A Writer writes a megabyte at a time to its underlying writer, counting
// on its bar and stopping once its context is done, so that ^C
// interrupts the save of a large block.
type Writer struct {
	ctx context.Context
	w   io.Writer
	bar *Bar
}

// NewWriter returns a Writer to w, which counts on bar and fails with
// ctx's error once ctx is done.
func NewWriter(ctx context.Context, w io.Writer, bar *Bar) *Writer {
	return &Writer{ctx: ctx, w: w, bar: bar}
}

// Write writes p a megabyte at a time, looking at the context before each.
func (w *Writer) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		if err := w.ctx.Err(); err != nil {
			return n, err
		}
		m, err := w.w.Write(p[:min(len(p), 1<<20)])
		w.bar.Add(int64(m))
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}
