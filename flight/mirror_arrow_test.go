package flight_test

import (
	"context"
	"encoding/json"
	"testing"

	aflight "github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

// TestRingStreamArrowClient: arrow-go's own Flight client reads a ring's
// stream as docs/FLIGHT.md describes it: the ring in the schema
// metadata, each frame's batches then its commit.
func TestRingStreamArrowClient(t *testing.T) {
	const n = 20
	remote := makeRing(t, ring.Config{DType: ndshm.Uint16, Frame: []int{100, 300}, Slots: 3})
	srv := &flight.Server{Chunk: 32 << 10} // 2 batches a frame
	flight.ServeRings(srv)
	addr := serve(t, srv)
	ac, err := aflight.NewClientWithMiddleware(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := ac.DoGet(ctx, &aflight.Ticket{Ticket: []byte(`{"kind":"ring","name":"` + remote.Name() + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := aflight.NewRecordReader(s)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	md := rr.Schema().Metadata()
	for k, want := range map[string]string{flight.MetaRingSlots: "3", flight.MetaRingPolicy: "block",
		flight.MetaRingMode: "broadcast", flight.MetaShape: "[100,300]", flight.MetaDType: "<u2"} {
		if i := md.FindKey(k); i < 0 || md.Values()[i] != want {
			t.Errorf("schema metadata %s: %q, want %q", k, md.Values()[max(i, 0)], want)
		}
	}
	go func() {
		w, err := remote.Writer()
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		p, _ := stream.NewPattern(ndshm.Uint16)
		publish(t, w, p, 0, n, 0)
	}()
	p, _ := stream.NewPattern(ndshm.Uint16)
	var frame []byte
	for got := 0; got < n; {
		if !rr.Next() {
			t.Fatalf("stream ended after %d frames: %v", got, rr.Err())
		}
		var m flight.FrameMeta
		if err := json.Unmarshal(rr.LatestAppMetadata(), &m); err != nil {
			t.Fatal(err)
		}
		rec := rr.RecordBatch()
		switch m.End {
		case "":
			if m.Offset != int64(len(frame)) {
				t.Fatalf("frame %d: batch at %d after %d bytes", m.Seq, m.Offset, len(frame))
			}
			col := rec.Column(0).Data().Children()[0] // tensor storage: fixed-size list of uint16
			b := col.Buffers()[1].Bytes()[col.Offset()*2 : (col.Offset()+col.Len())*2]
			frame = append(frame, b...)
		case flight.EndCommit:
			if len(frame) != 100*300*2 || m.Tag != uint64(got) || !p.Check(frame, m.Tag) {
				t.Fatalf("frame %d: %d bytes, tag %d, pattern ok %v", got, len(frame), m.Tag, p.Check(frame, m.Tag))
			}
			frame, got = frame[:0], got+1
		case flight.EndOpen:
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
}
