package flight

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/ndshm/ndshm"

	"github.com/apache/arrow-go/v18/arrow/flight"
)

// A sender is the stream that carries FlightData: a DoGet server
// stream or a DoPut client stream.
type sender interface {
	Send(*flight.FlightData) error
}

// send writes the schema of an array of spec and then its bytes data,
// in batches of at most chunk bytes of whole rows, to s. The batches'
// buffers alias data (a block's mapping, or one of a ring's slots): the
// only copy is gRPC's into its send buffer. data must stay valid and
// hold spec.Size() bytes until send returns. first, if set, goes on the
// first message (DoPut's descriptor).
func send(s sender, spec ndshm.Spec, data []byte, chunk int, first *flight.FlightDescriptor) error {
	if len(data) != spec.Size() {
		return fmt.Errorf("flight: %d bytes for %v of %d", len(data), spec, spec.Size())
	}
	l, err := newLayout(spec, chunk)
	if err != nil {
		return err
	}
	pw := &payloadWriter{s: s, fd: flight.FlightData{FlightDescriptor: first}}
	w := ipc.NewWriterWithPayloadWriter(pw, ipc.WithSchema(l.schema()))
	per := max(1, chunk/l.unit)
	for seq, row := 0, 0; row < l.rows; seq, row = seq+1, row+per {
		n := min(per, l.rows-row)
		off := row * l.unit
		rec := l.batch(data[off:off+n*l.unit], n)
		pw.meta = batchMeta{Seq: int64(seq), Offset: int64(off)}.bytes()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// batch wraps n rows of bytes p as a record batch, without copying.
func (l *layout) batch(p []byte, n int) arrow.RecordBatch {
	buf := memory.NewBufferBytes(p)
	leaf := array.NewData(l.leaf, n*l.per, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer leaf.Release()
	var col arrow.Array
	switch t := l.typ.(type) {
	case *TensorType:
		list := array.NewData(t.Storage, n, []*memory.Buffer{nil}, []arrow.ArrayData{leaf}, 0, 0)
		defer list.Release()
		col = array.NewExtensionArrayWithStorage(t, array.MakeFromData(list))
	case arrow.ExtensionType:
		col = array.NewExtensionArrayWithStorage(t, array.MakeFromData(leaf))
	default:
		col = array.MakeFromData(leaf)
	}
	defer col.Release()
	return array.NewRecordBatch(l.schema(), []arrow.Array{col}, int64(n))
}

// payloadWriter turns IPC payloads into FlightData, as arrow-go's own
// does, but without copying the body when it is one buffer (the usual
// case here): DataBody then aliases the block, and gRPC's marshalling is
// the one copy. Send marshals before it returns, so the alias ends there.
type payloadWriter struct {
	s    sender
	fd   flight.FlightData
	meta []byte // app_metadata for the next record batch
	body gather
	sent int // payloads sent
}

func (p *payloadWriter) Start() error { return nil }
func (p *payloadWriter) Close() error { return nil }

func (p *payloadWriter) WritePayload(pl ipc.Payload) error {
	m := pl.Meta()
	defer m.Release()
	p.fd.DataHeader = m.Bytes()
	p.body = p.body[:0]
	if err := pl.SerializeBody(&p.body); err != nil {
		return err
	}
	p.fd.DataBody = p.body.bytes()
	if p.sent > 0 { // the first payload is the schema, the rest batches
		p.fd.AppMetadata, p.meta = p.meta, nil
	}
	p.sent++
	err := p.s.Send(&p.fd)
	p.fd = flight.FlightData{}
	return err
}

// gather collects the slices written to it without copying them.
type gather [][]byte

func (g *gather) Write(p []byte) (int, error) {
	*g = append(*g, p)
	return len(p), nil
}

// bytes returns the one slice written, or else a copy of all of them.
func (g gather) bytes() []byte {
	switch len(g) {
	case 0:
		return nil
	case 1:
		return g[0]
	}
	var n int
	for _, p := range g {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range g {
		out = append(out, p...)
	}
	return out
}
