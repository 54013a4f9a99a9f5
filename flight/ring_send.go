package flight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// Schema metadata keys of a ring's stream (docs/FLIGHT.md), besides the
// frame's MetaHeader and the rest: the remote ring's configuration, so
// that a mirror can make its local ring like it.
const (
	MetaRingSlots  = "ndshm.ring_slots"  // decimal
	MetaRingMode   = "ndshm.ring_mode"   // "broadcast" or "queue"
	MetaRingPolicy = "ndshm.ring_policy" // "block" or "overwrite"
)

// Ends of a ring stream's frames and streams, in the End field of the
// app_metadata of a batch of no rows (docs/FLIGHT.md).
const (
	EndCommit = "commit" // the frame Seq is complete: publish it
	EndAbort  = "abort"  // the frame Seq was overwritten while sent: drop it
	EndStream = "stream" // the ring's writer closed or died: its stream ended
	EndOpen   = "open"   // subscribed: the first message, before any frame
)

// A FrameMeta is the app_metadata of a batch of a ring's stream. A data
// batch carries Seq and Offset (Last on a frame's last one); a batch of
// no rows ends a frame (End is EndCommit or EndAbort, with Seq) or a
// stream (EndStream, with Stream), or is the first message (EndOpen).
type FrameMeta struct {
	Seq    uint64 `json:"seq"`              // the frame's ring sequence number
	Offset int64  `json:"offset"`           // the batch's first byte in the frame
	Last   bool   `json:"last,omitempty"`   // the frame's last data batch
	End    string `json:"end,omitempty"`    // EndCommit, EndAbort or EndStream
	Tag    uint64 `json:"tag,omitempty"`    // the writer's tag, with EndCommit
	Stream uint32 `json:"stream,omitempty"` // the frame's writer stream
}

// ServeRings makes s answer DoGet for tickets of KindRing: the frames of
// the named ring as they are published (RingStream). `ndshm serve
// --flight` calls it. Call it before Serve.
func ServeRings(s *Server) {
	if s.Get == nil {
		s.Get = map[string]GetFunc{}
	}
	s.Get[KindRing] = func(ctx context.Context, name string, w flight.FlightService_DoGetServer) error {
		return RingStream(ctx, name, w, s.chunk())
	}
}

// RingStream subscribes to the named ring and sends its frames to w
// until ctx ends: per frame, batches of at most chunk bytes aliasing the
// ring's slot (gRPC's marshalling is the one copy), then a batch of no
// rows that commits the frame, or aborts it if it was overwritten while
// it was sent. The reader holds each frame until it is sent, so under
// the block policy a stalled stream (HTTP/2 flow control) stalls the
// ring's writer. Streams of the ring's writers follow one another, each
// end marked.
func RingStream(ctx context.Context, name string, w flight.FlightService_DoGetServer, chunk int) error {
	r, err := ring.Open(name) // read-write: a reader writes its place in the footer
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := newRingSender(r, w, chunk)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rd, err := r.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	defer s.close()
	// The schema goes out now, with a marker: the receiver can make its
	// ring before the first frame is published.
	if err := s.end(FrameMeta{End: EndOpen}); err != nil {
		return err
	}
	for {
		f, err := rd.Next(ctx)
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = s.end(FrameMeta{End: EndStream, Stream: s.stream})
		case err == nil:
			err = s.frame(f, rd)
		}
		if err != nil && ctx.Err() != nil {
			return nil // the client went away: the usual end of a ring stream
		}
		if err != nil {
			return err
		}
	}
}

// A ringSender writes one ring's frames as one Arrow IPC stream.
type ringSender struct {
	l      *layout
	pw     *payloadWriter
	w      *ipc.Writer
	empty  arrow.RecordBatch // no rows: the markers' batch
	chunk  int
	stream uint32
}

func newRingSender(r *ring.Ring, w flight.FlightService_DoGetServer, chunk int) (*ringSender, error) {
	l, err := frameLayout(r, chunk)
	if err != nil {
		return nil, err
	}
	sch := l.schema()
	md := sch.Metadata()
	keys := append(md.Keys(), MetaRingSlots, MetaRingMode, MetaRingPolicy)
	vals := append(md.Values(), strconv.Itoa(r.Slots()), r.Mode().String(), r.Policy().String())
	meta := arrow.NewMetadata(keys, vals)
	sch = arrow.NewSchema(sch.Fields(), &meta)
	pw := &payloadWriter{s: w}
	s := &ringSender{l: l, pw: pw, chunk: chunk, w: ipc.NewWriterWithPayloadWriter(pw, ipc.WithSchema(sch))}
	s.empty = l.batch(nil, 0)
	return s, nil
}

// frameLayout plans the column of one frame of r: its dtype and frame
// shape.
func frameLayout(r *ring.Ring, chunk int) (*layout, error) {
	b := r.Block()
	return newLayout(ndshm.Spec{DType: b.DType(), Shape: b.Spec().Shape[1:]}, chunk)
}

// frame sends frame f, which rd holds, and releases it: committed if it
// was not overwritten meanwhile, else aborted.
func (s *ringSender) frame(f ring.Frame, rd *ring.Reader) error {
	s.stream = f.Stream
	data := f.Bytes()
	l := s.l
	per := max(1, s.chunk/l.unit)
	for row := 0; row < l.rows; row += per {
		n := min(per, l.rows-row)
		off := row * l.unit
		m := FrameMeta{Seq: f.Seq, Offset: int64(off), Last: row+n == l.rows}
		if err := s.write(l.batch(data[off:off+n*l.unit], n), m); err != nil {
			return err
		}
	}
	end := FrameMeta{Seq: f.Seq, End: EndCommit, Tag: f.Tag, Stream: f.Stream}
	if errors.Is(rd.Release(), ring.ErrTorn) {
		end = FrameMeta{Seq: f.Seq, End: EndAbort, Stream: f.Stream}
	}
	return s.end(end)
}

// end sends a marker: a batch of no rows.
func (s *ringSender) end(m FrameMeta) error {
	s.empty.Retain()
	return s.write(s.empty, m)
}

// write sends rec with app_metadata m and releases rec.
func (s *ringSender) write(rec arrow.RecordBatch, m FrameMeta) error {
	s.pw.meta = m.bytes()
	err := s.w.Write(rec)
	rec.Release()
	return err
}

func (s *ringSender) close() {
	s.empty.Release()
	s.w.Close()
}

func (m FrameMeta) bytes() []byte {
	b, _ := json.Marshal(m) // numbers and strings: cannot fail
	return b
}
