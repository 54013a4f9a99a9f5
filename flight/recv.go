package flight

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/npy"
)

// ErrStream marks a stream whose schema, metadata or data do not add up:
// a lying or broken peer. Nothing is published from such a stream.
var ErrStream = errors.New("flight stream does not match its .npy header")

// A receiver reads an ndshm stream (schema, then batches) as the .npy
// file it carries: the header from the schema's metadata, then the
// batches' bytes, checked against their app_metadata and the header.
// It is the io.Reader that ndshm.LoadReader copies into the new block:
// the one copy into shared memory. Before it hands over the last byte it
// makes sure the stream ends there, so LoadReader publishes the block
// only when the whole, exact array arrived.
type receiver struct {
	r    *flight.Reader
	spec ndshm.Spec
	hdr  []byte // header bytes not yet read
	size int64  // data bytes the header describes
	got  int64  // data bytes taken from batches
	seq  int64  // the next batch's sequence number
	cur  []byte // batch bytes not yet read
	rec  arrow.RecordBatch
	err  error       // the first error Read returned, which explains the load's
	pf   *prefaulter // faulting in the memory Read copies into; nil for none
	pfOn bool        // prefault on the first data Read
}

// newReceiver reads the schema from r and the .npy header from its
// metadata.
func newReceiver(r *flight.Reader) (*receiver, error) {
	md := r.Schema().Metadata()
	i := md.FindKey(MetaHeader)
	if i < 0 {
		return nil, fmt.Errorf("%w: schema lacks %s metadata", ErrStream, MetaHeader)
	}
	hdr := []byte(md.Values()[i])
	h, n, err := npy.Read(bytes.NewReader(hdr))
	if err != nil || n != len(hdr) {
		return nil, fmt.Errorf("%w: %s: %v", ErrStream, MetaHeader, err)
	}
	s, err := specOf(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStream, err)
	}
	v := &receiver{r: r, spec: s, hdr: hdr, size: int64(s.Size()), pfOn: prefault}
	if v.size == 0 && r.Next() { // nothing will read: check the end now
		return nil, fmt.Errorf("%w: batches follow a header of no data", ErrStream)
	}
	if v.size == 0 && r.Err() != nil {
		return nil, r.Err()
	}
	return v, nil
}

// specOf converts a header to the Spec it describes.
func specOf(h npy.Header) (ndshm.Spec, error) {
	var d ndshm.DType
	if err := d.UnmarshalText([]byte(h.Descr.String())); err != nil {
		return ndshm.Spec{}, err
	}
	n := int64(d.Size())
	for _, x := range h.Shape {
		if x < 0 || (x > 0 && n > (1<<62)/int64(x)) {
			return ndshm.Spec{}, fmt.Errorf("shape %v of %s is too large", h.Shape, d)
		}
		n *= int64(x)
	}
	return ndshm.Spec{DType: d, Shape: h.Shape, Fortran: h.Fortran}, nil
}

// Read reads the header, then the data. ndshm.LoadReader reads the data
// with one io.ReadFull into the new block's memory: the first data Read
// gets all of it, which the prefaulter then faults in ahead of the copy.
// It stops on the last byte and on an error, before Read returns, so it
// never touches the memory once the load is over.
func (v *receiver) Read(p []byte) (int, error) {
	if len(v.hdr) > 0 {
		n := copy(p, v.hdr)
		v.hdr = v.hdr[n:]
		return n, nil
	}
	if v.pfOn && len(p) >= prefaultMin {
		v.pf, v.pfOn = startPrefault(p), false
	}
	for len(v.cur) == 0 {
		if v.got == v.size {
			v.pf.end()
			v.pf = nil
			return 0, io.EOF
		}
		if err := v.next(); err != nil {
			if v.err == nil {
				v.err = err
			}
			v.pf.end()
			v.pf = nil
			return 0, err
		}
	}
	n := copy(p, v.cur)
	v.cur = v.cur[n:]
	if v.got == v.size && len(v.cur) == 0 {
		v.pf.end()
		v.pf = nil
	}
	return n, nil
}

// next takes the next batch, and after the last one makes sure nothing
// follows it.
func (v *receiver) next() error {
	if v.rec != nil {
		v.rec.Release()
		v.rec = nil
	}
	if !v.r.Next() {
		if err := v.r.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w: stream ended after %d of %d data bytes", ErrStream, v.got, v.size)
	}
	rec := v.r.RecordBatch()
	rec.Retain()
	v.rec = rec
	b, err := batchBytes(rec)
	if err != nil {
		return fmt.Errorf("%w: batch %d: %v", ErrStream, v.seq, err)
	}
	m, err := parseBatchMeta(v.r.LatestAppMetadata())
	switch {
	case err != nil:
		return fmt.Errorf("%w: batch %d: %v", ErrStream, v.seq, err)
	case m.Seq != v.seq || m.Offset != v.got:
		return fmt.Errorf("%w: batch %d at byte %d says it is batch %d at byte %d", ErrStream, v.seq, v.got, m.Seq, m.Offset)
	case int64(len(b)) > v.size-v.got:
		return fmt.Errorf("%w: batch %d brings %d bytes past the %d the header describes", ErrStream, v.seq, v.got+int64(len(b))-v.size, v.size)
	}
	v.seq++
	v.got += int64(len(b))
	v.cur = b
	if v.got == v.size && v.r.Next() {
		return fmt.Errorf("%w: more batches follow the %d data bytes the header describes", ErrStream, v.size)
	}
	if v.got == v.size {
		return v.r.Err()
	}
	return nil
}

// explain returns the receiver's own error, which says why a load of
// its stream failed better than the load's "cut short" does.
func (v *receiver) explain(err error) error {
	if err != nil && v.err != nil {
		return v.err
	}
	return err
}

// close releases the batch held.
func (v *receiver) close() {
	v.pf.end()
	v.pf = nil
	if v.rec != nil {
		v.rec.Release()
		v.rec = nil
	}
	v.r.Release()
}

// batchBytes returns the bytes of a batch's one fixed-width column,
// aliasing the batch: through extension types and fixed-size lists
// down to the leaf's values buffer. Nulls, offsets and bit-packed
// values (Arrow booleans) are refused: ndshm's bytes have none.
func batchBytes(rec arrow.RecordBatch) ([]byte, error) {
	if rec.NumCols() != 1 {
		return nil, fmt.Errorf("%d columns, want 1", rec.NumCols())
	}
	d := rec.Column(0).Data()
	n := int64(d.Len())
	for {
		if d.NullN() != 0 || d.Offset() != 0 {
			return nil, errors.New("nulls or an offset in the column")
		}
		t := d.DataType()
		if e, ok := t.(arrow.ExtensionType); ok {
			t = e.StorageType()
		}
		switch t := t.(type) {
		case *arrow.FixedSizeListType:
			if len(d.Children()) != 1 {
				return nil, errors.New("fixed-size list without one child")
			}
			n *= int64(t.Len())
			d = d.Children()[0]
			continue
		case arrow.FixedWidthDataType:
			return leafBytes(d, t, n)
		default:
			return nil, fmt.Errorf("column of %s, not fixed-width", t)
		}
	}
}

func leafBytes(d arrow.ArrayData, t arrow.FixedWidthDataType, n int64) ([]byte, error) {
	w := int64(t.BitWidth())
	if w%8 != 0 || w == 0 || int64(d.Len()) != n || len(d.Buffers()) < 2 {
		return nil, fmt.Errorf("leaf of %s with %d values, want whole bytes and %d values", t, d.Len(), n)
	}
	buf := d.Buffers()[1]
	size := n * w / 8
	if size == 0 {
		return nil, nil
	}
	if buf == nil || int64(buf.Len()) < size {
		return nil, errors.New("values buffer shorter than its length")
	}
	return buf.Bytes()[:size], nil
}

// clipped caps each message's body at its length. arrow-go's IPC reader
// slices buffers out of the body by the offsets and lengths the message
// header claims, and a slice expression may reach past a slice's length
// up to its capacity: with gRPC's decoding, into bytes that are not the
// body. A header that lies about a body cut short would then read them.
// With the capacity clipped, such a slice fails (the reader turns the
// panic into an error).
type clipped struct{ r flight.DataStreamReader }

func (c clipped) Recv() (*flight.FlightData, error) {
	d, err := c.r.Recv()
	if d != nil {
		d.DataBody = d.DataBody[:len(d.DataBody):len(d.DataBody)]
		d.DataHeader = d.DataHeader[:len(d.DataHeader):len(d.DataHeader)]
	}
	return d, err
}
