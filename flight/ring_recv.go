package flight

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/npy"
	"github.com/ndshm/ndshm/ring"
)

// ringSpec is what a ring stream's schema says of the remote ring.
type ringSpec struct {
	frame ndshm.Spec
	cfg   ring.Config
}

// parseRingSchema reads the frame's .npy header and the ring's
// configuration from a ring stream's schema metadata.
func parseRingSchema(sch *arrow.Schema) (ringSpec, error) {
	md := sch.Metadata()
	get := func(k string) string {
		if i := md.FindKey(k); i >= 0 {
			return md.Values()[i]
		}
		return ""
	}
	hdr := []byte(get(MetaHeader))
	h, n, err := npy.Read(bytes.NewReader(hdr))
	if err != nil || n != len(hdr) {
		return ringSpec{}, fmt.Errorf("%w: %s: %v", ErrStream, MetaHeader, err)
	}
	s, err := specOf(h)
	if err == nil && s.Fortran {
		err = errors.New("a frame in Fortran order")
	}
	if err != nil {
		return ringSpec{}, fmt.Errorf("%w: %v", ErrStream, err)
	}
	c := ring.Config{DType: s.DType, Frame: s.Shape}
	c.Slots, err = strconv.Atoi(get(MetaRingSlots))
	if err == nil {
		err = c.Mode.UnmarshalText([]byte(get(MetaRingMode)))
	}
	if err == nil {
		err = c.Policy.UnmarshalText([]byte(get(MetaRingPolicy)))
	}
	if err != nil || c.Slots < 1 || c.Slots > ring.MaxSlots {
		return ringSpec{}, fmt.Errorf("%w: ring metadata %s=%q: %v", ErrStream, MetaRingSlots, get(MetaRingSlots), err)
	}
	return ringSpec{frame: s, cfg: c}, nil
}

// sameFrame reports whether ring r's frames are of spec s.
func sameFrame(r *ring.Ring, s ndshm.Spec) bool {
	b := r.Block()
	return b.DType().String() == s.DType.String() && slices.Equal(b.Spec().Shape[1:], s.Shape) &&
		r.FrameBytes() == s.Size()
}

// openLocal opens the local ring name, or makes it as the remote one
// is, changed by o; its frames must be the remote's.
func openLocal(name string, rs ringSpec, o MirrorOptions) (*ring.Ring, error) {
	for range 2 {
		r, err := ring.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			c := rs.cfg
			c.Slots = cmpOr(o.Slots, c.Slots)
			c.Readers = o.Readers
			if o.Policy != nil {
				c.Policy = *o.Policy
			}
			r, err = ring.Create(name, c, o.Options...)
			if errors.Is(err, fs.ErrExist) {
				continue // made meanwhile: open it
			}
		}
		if err != nil {
			return nil, err
		}
		if !sameFrame(r, rs.frame) {
			r.Close()
			return nil, &fs.PathError{Op: "mirror", Path: name, Err: fmt.Errorf(
				"%w: local frames of %s %v, remote frames of %s %v", errMismatch,
				r.Block().DType(), r.Block().Spec().Shape[1:], rs.frame.DType, rs.frame.Shape)}
		}
		return r, nil
	}
	return nil, &fs.PathError{Op: "mirror", Path: name, Err: fs.ErrExist}
}

var errMismatch = errors.New("frames differ")

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// frameMeta decodes a batch's app_metadata.
func frameMeta(b []byte) (FrameMeta, error) {
	var m FrameMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return FrameMeta{}, fmt.Errorf("%w: batch app_metadata %.64q: %v", ErrStream, b, err)
	}
	return m, nil
}

// A frameSink writes a ring stream's frames into the local ring: each
// data batch straight into the loaned slot (the one copy), published at
// its commit. It checks every batch against the frame it belongs to.
type frameSink struct {
	r     *ring.Ring
	w     *ring.Writer // nil between remote streams
	slot  []byte       // the loaned frame, while in a frame
	cur   uint64       // the frame being received
	got   int          // its bytes so far
	in    bool         // in a frame
	first bool         // no frame ended yet on this connection
	last  uint64       // the last frame ended on this connection
	stats *MirrorStats
	seen  bool   // any frame ended, on any connection
	prev  uint64 // the last frame ended, on any connection
}

// batch takes one batch and its app_metadata.
func (k *frameSink) batch(ctx context.Context, rec arrow.RecordBatch, m FrameMeta) error {
	switch m.End {
	case "":
		return k.data(ctx, rec, m)
	case EndCommit, EndAbort:
		if !k.in || m.Seq != k.cur || rec.NumRows() != 0 {
			return fmt.Errorf("%w: %s of frame %d, not the frame being received", ErrStream, m.End, m.Seq)
		}
		return k.end(m)
	case EndStream, EndOpen:
		if k.in || rec.NumRows() != 0 {
			return fmt.Errorf("%w: %s marker inside frame %d", ErrStream, m.End, k.cur)
		}
		if m.End == EndStream && k.w != nil {
			err := k.w.Close()
			k.w = nil
			return err
		}
		return nil
	}
	return fmt.Errorf("%w: batch end %q", ErrStream, m.End)
}

// data copies a data batch into the frame it belongs to, loaning a slot
// for a new frame: under the block policy that waits while the local
// ring is full, and so stops reading the stream.
func (k *frameSink) data(ctx context.Context, rec arrow.RecordBatch, m FrameMeta) error {
	b, err := batchBytes(rec)
	if err != nil || len(b) == 0 {
		return fmt.Errorf("%w: frame %d at byte %d: %v", ErrStream, m.Seq, m.Offset, cmpErr(err, "no data"))
	}
	if !k.in {
		if !k.first && m.Seq <= k.last {
			return fmt.Errorf("%w: frame %d after frame %d", ErrStream, m.Seq, k.last)
		}
		if err := k.loan(ctx); err != nil {
			return err
		}
		k.in, k.cur, k.got = true, m.Seq, 0
	}
	switch {
	case m.Seq != k.cur:
		return fmt.Errorf("%w: frame %d begins before frame %d ended", ErrStream, m.Seq, k.cur)
	case m.Offset != int64(k.got):
		return fmt.Errorf("%w: frame %d: batch at byte %d, want %d", ErrStream, m.Seq, m.Offset, k.got)
	case len(b) > len(k.slot)-k.got:
		return fmt.Errorf("%w: frame %d: %d bytes past the %d-byte frame", ErrStream, m.Seq, k.got+len(b)-len(k.slot), len(k.slot))
	}
	k.got += copy(k.slot[k.got:], b)
	return nil
}

func cmpErr(err error, s string) error {
	if err != nil {
		return err
	}
	return errors.New(s)
}

// loan gets the local slot for the next frame, starting a local stream
// if there is none. A frame loaned but never committed (a broken
// connection, an abort) stays on loan, to be written over.
func (k *frameSink) loan(ctx context.Context) error {
	if k.w == nil {
		w, err := k.r.Writer()
		if err != nil {
			return localErr{err} // another writer: not ours to feed
		}
		k.w = w
	}
	f, err := k.w.Loan(ctx)
	if err != nil {
		return err
	}
	k.slot = f.Bytes()
	return nil
}

// end publishes (commit) or drops (abort) the frame received, and
// counts the frames the sequence numbers show were lost before it.
func (k *frameSink) end(m FrameMeta) error {
	if m.End == EndCommit && k.got != len(k.slot) {
		return fmt.Errorf("%w: frame %d committed after %d of its %d bytes", ErrStream, m.Seq, k.got, len(k.slot))
	}
	if k.seen && m.Seq > k.prev+1 {
		k.stats.Lost += m.Seq - k.prev - 1
	}
	k.in, k.first, k.last, k.seen, k.prev = false, false, m.Seq, true, m.Seq
	if m.End == EndAbort {
		k.stats.Aborted++
		k.stats.Lost++
		return nil
	}
	if err := k.w.Publish(m.Tag); err != nil {
		return err
	}
	k.stats.Frames++
	k.stats.Bytes += uint64(k.got)
	return nil
}

// close ends the local stream.
func (k *frameSink) close() {
	if k.w != nil {
		k.w.Close()
		k.w = nil
	}
}
