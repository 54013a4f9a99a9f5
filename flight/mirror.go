package flight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// MirrorOptions adjust Mirror. The zero value mirrors into a ring made
// like the remote one, retrying from 100 ms to 5 s.
type MirrorOptions struct {
	// Slots, Readers and Policy, if set, replace the remote ring's when
	// Mirror makes the local ring; Options go to ring.Create
	// (ndshm.Persistent to outlive Mirror). An existing local ring is
	// used as it is, if its frames are the remote's.
	Slots   int
	Readers int
	Policy  *ring.Policy
	Options []ndshm.Option

	// MinBackoff and MaxBackoff bound the wait before each reconnection,
	// which doubles from the first to the second while connections fail
	// without delivering a frame. 0 means 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration

	// OnError, if set, is told of each broken or refused connection and
	// the wait before the next, from Mirror's goroutine.
	OnError func(err error, wait time.Duration)
}

// MirrorStats counts what a Mirror did.
type MirrorStats struct {
	Frames     uint64 `json:"frames"`         // frames published into the local ring
	Bytes      uint64 `json:"received_bytes"` // their data bytes
	Lost       uint64 `json:"lost"`           // remote frames never published here: sequence gaps and aborts
	Aborted    uint64 `json:"aborted"`        // frames overwritten remotely while sent, dropped
	Reconnects uint64 `json:"reconnects"`     // connections after the first
}

// Mirror keeps the local ring named local fed with the frames of the
// remote ring until ctx ends, then returns its counts and ctx's error.
// It makes the local ring like the remote one (MirrorOptions) unless it
// exists, and is its one writer; one Flight stream carries the remote
// ring, local readers fan out through shared memory. Each frame is
// copied once, from gRPC's message into a local slot, and published
// only when the server commits it: a frame overwritten while it was
// sent, or cut off by a broken connection, is never published. Under
// the block policy a full local ring stops Mirror reading the stream,
// which stalls the server's reader and so the remote writer. A broken
// or refused connection is retried with backoff; the frames the gap in
// sequence numbers shows were missed count as Lost. Mirror returns
// early on errors retrying cannot mend: a lying stream (ErrStream), a
// local ring of other frames or with another writer, a refused token.
func Mirror(ctx context.Context, c *Client, remote, local string, o MirrorOptions) (MirrorStats, error) {
	m := &mirror{c: c, remote: remote, local: local, o: o}
	m.sink.stats = &m.stats
	defer m.close()
	minB, maxB := cmpOrDur(o.MinBackoff, 100*time.Millisecond), cmpOrDur(o.MaxBackoff, 5*time.Second)
	wait := minB
	for n := 0; ; n++ {
		if n > 0 {
			m.stats.Reconnects++
		}
		before := m.stats.Frames
		err := m.session(ctx)
		if ctx.Err() != nil {
			return m.stats, ctx.Err()
		}
		if fatal(err) {
			return m.stats, pathErr("mirror", remote, err)
		}
		if m.stats.Frames > before {
			wait = minB
		}
		if o.OnError != nil {
			o.OnError(err, wait)
		}
		select {
		case <-ctx.Done():
			return m.stats, ctx.Err()
		case <-time.After(wait):
		}
		// Our backoff, not gRPC's (which waits up to 2 minutes between
		// attempts to reach a server that went away).
		c.conn.ResetConnectBackoff()
		wait = min(2*wait, maxB)
	}
}

func cmpOrDur(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}

// fatal reports whether reconnecting cannot mend err: the remote stream
// lied, the local ring is not ours to feed, or the server refuses us.
func fatal(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
			return true
		}
		return false
	}
	return errors.Is(err, ErrStream) || errors.Is(err, errMismatch) || errors.Is(err, ndshm.ErrFormat) ||
		errLocal(err)
}

// mirror is one Mirror's state across connections.
type mirror struct {
	c             *Client
	remote, local string
	o             MirrorOptions
	r             *ring.Ring // the local ring, from the first schema on
	spec          ringSpec
	sink          frameSink
	stats         MirrorStats
}

// session runs one connection: DoGet of the remote ring, its frames
// into the local ring, until the stream breaks.
func (m *mirror) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if we stop reading early
	s, err := m.c.svc.DoGet(ctx, &flight.Ticket{Ticket: Ticket{KindRing, m.remote}.Bytes()}, grpc.ForceCodecV2(newRingCodec()))
	if err != nil {
		return fromStatus(err)
	}
	fr, err := flight.NewRecordReader(clipped{s})
	if err != nil {
		return fromStatus(err)
	}
	defer fr.Release()
	if err := m.attach(fr); err != nil {
		return err
	}
	m.sink.in, m.sink.first = false, true
	for fr.Next() {
		meta, err := frameMeta(fr.LatestAppMetadata())
		if err == nil {
			err = m.sink.batch(ctx, fr.RecordBatch(), meta)
		}
		if err != nil {
			return err
		}
	}
	if err := fr.Err(); err != nil {
		return fromStatus(err)
	}
	return fmt.Errorf("%w: server ended the ring stream", errClosedStream)
}

var errClosedStream = errors.New("stream closed")

// attach makes or opens the local ring from the first schema, and
// checks later ones against it.
func (m *mirror) attach(fr *flight.Reader) error {
	rs, err := parseRingSchema(fr.Schema())
	if err != nil {
		return err
	}
	if m.r != nil {
		if !sameFrame(m.r, rs.frame) {
			return fmt.Errorf("%w: the remote ring's frames changed to %s %v", errMismatch, rs.frame.DType, rs.frame.Shape)
		}
		return nil
	}
	r, err := openLocal(m.local, rs, m.o)
	if err != nil {
		return localErr{err}
	}
	m.r, m.spec, m.sink.r = r, rs, r
	return nil
}

// localErr marks an error of the local ring, which reconnecting does
// not mend.
type localErr struct{ error }

func (e localErr) Unwrap() error { return e.error }

func errLocal(err error) bool {
	var l localErr
	return errors.As(err, &l)
}

func (m *mirror) close() {
	m.sink.close()
	if m.r != nil {
		m.r.Close()
	}
}
