package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/human"
)

const mirrorAbout = `
Keeps the local ring LOCAL fed with the frames of the ring RING of the
Arrow Flight server at HOST:PORT (ndshm serve --flight), until interrupted
(SIGINT or SIGTERM: exit status 0). It makes LOCAL like RING (dtype,
frame shape, slots unless --slots, mode, policy), removed when mirror
exits, or feeds an existing LOCAL of the same frames; it is LOCAL's
writer, and local readers (ring recv LOCAL, Python) subscribe to LOCAL as
to any ring. One stream carries RING; each frame is copied once, into a
slot of LOCAL, and published only when complete.

Under the block policy a full LOCAL stops the stream, and so the remote
writer: nothing is lost. Under overwrite, frames are latest-only, and a
frame overwritten on the server while it was sent is dropped, never
published torn. A broken connection is retried after 100 ms, doubling up
to 5 s; frames missed meanwhile count as lost. A lying stream, a LOCAL of
other frames or a refused token end mirror with status 1.

grpc+tls:// speaks TLS; plaintext grpc:// is refused to a host that is
not loopback unless --insecure. It prints the counts at the end, with
--json {"frames","received_bytes","lost","aborted","reconnects","seconds","fps","bytes_per_s"}.`

// mirrored is mirror --json's object.
type mirrored struct {
	flight.MirrorStats
	Seconds   float64 `json:"seconds"`
	FPS       float64 `json:"fps"`
	BytesPerS float64 `json:"bytes_per_s"`
}

// runMirror is `ndshm mirror`.
func runMirror(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "mirror", "mirror grpc://HOST:PORT/RING LOCAL [--slots N] [--token TOKEN] [--ca FILE] [--insecure] [--json]", mirrorAbout)
	slots := f.Int("slots", 0, "make LOCAL with `N` slots (default 0: the remote ring's)")
	cf := newClientFlags(f)
	asJSON := f.Bool("json", false, "print the counts as JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "URL", "LOCAL")
	}
	if err != nil {
		return err
	}
	u, err := flight.ParseURL(pos[0])
	if err == nil && u.Name == "" {
		err = fmt.Errorf("%s names no ring", pos[0])
	}
	if err != nil || *slots < 0 {
		return f.UsageErr("%v", cmpOr(err, errors.New("--slots cannot be negative")))
	}
	c, err := cf.dial(u)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	st, err := flight.Mirror(ctx, c, u.Name, blockName(pos[1]), flight.MirrorOptions{
		Slots: *slots,
		OnError: func(err error, wait time.Duration) {
			fmt.Fprintf(e.stderr, "ndshm mirror: %v; again in %v\n", err, wait)
		},
	})
	if errors.Is(err, context.Canceled) {
		err = nil // an interrupt is how mirroring ends
	}
	s := time.Since(start).Seconds()
	rep := mirrored{MirrorStats: st, Seconds: s, FPS: float64(st.Frames) / s, BytesPerS: float64(st.Bytes) / s}
	if perr := printMirror(e.stdout, rep, *asJSON); err == nil {
		err = perr
	}
	return err
}

func cmpOr(err, other error) error {
	if err != nil {
		return err
	}
	return other
}

func printMirror(w io.Writer, rep mirrored, asJSON bool) error {
	if asJSON {
		return describe.WriteJSON(w, rep)
	}
	_, err := fmt.Fprintf(w, "mirrored %d frames (%s) in %.1fs: %.1f frames/s; lost %d, aborted %d, reconnects %d\n",
		rep.Frames, human.Bytes(int64(rep.Bytes)), rep.Seconds, rep.FPS, rep.Lost, rep.Aborted, rep.Reconnects)
	return err
}
