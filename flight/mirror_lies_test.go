package flight_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	aflight "github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// u1Header is the .npy header of a uint8 array of n elements.
func u1Header(n int) string {
	dict := fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }", n)
	pad := 64 - (10+len(dict)+1)%64
	dict += strings.Repeat(" ", pad%64) + "\n"
	var h [10]byte
	copy(h[:], "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(h[8:], uint16(len(dict)))
	return string(h[:]) + dict
}

// A fakeBatch is one message of a hand-made ring stream: len(data)
// bytes of uint8 with app_metadata meta.
type fakeBatch struct {
	data []byte
	meta flight.FrameMeta
}

// fakeRing returns a DoGet handler that sends a ring stream of the
// given schema metadata and batches, once release is closed (nil: at
// once), and then waits for the client to go.
func fakeRing(md map[string]string, batches []fakeBatch, release chan struct{}) flight.GetFunc {
	return func(ctx context.Context, _ string, w aflight.FlightService_DoGetServer) error {
		var keys, vals []string
		for k, v := range md {
			keys, vals = append(keys, k), append(vals, v)
		}
		meta := arrow.NewMetadata(keys, vals)
		sch := arrow.NewSchema([]arrow.Field{{Name: flight.Column, Type: arrow.PrimitiveTypes.Uint8}}, &meta)
		fw := aflight.NewRecordWriter(w, ipc.WithSchema(sch))
		defer fw.Close()
		send := func(p []byte, m flight.FrameMeta) error {
			d := array.NewData(arrow.PrimitiveTypes.Uint8, len(p), []*memory.Buffer{nil, memory.NewBufferBytes(p)}, nil, 0, 0)
			defer d.Release()
			col := array.MakeFromData(d)
			defer col.Release()
			rec := array.NewRecordBatch(sch, []arrow.Array{col}, int64(len(p)))
			defer rec.Release()
			b := fmt.Appendf(nil, `{"seq":%d,"offset":%d,"last":%v,"end":%q,"tag":%d}`, m.Seq, m.Offset, m.Last, m.End, m.Tag)
			return fw.WriteWithAppMetadata(rec, b)
		}
		if err := send(nil, flight.FrameMeta{End: flight.EndOpen}); err != nil {
			return err
		}
		if release != nil {
			<-release
		}
		for _, b := range batches {
			if err := send(b.data, b.meta); err != nil {
				return err
			}
		}
		<-ctx.Done()
		return nil
	}
}

func ringMeta(hdr string) map[string]string {
	return map[string]string{flight.MetaHeader: hdr, flight.MetaRingSlots: "4",
		flight.MetaRingMode: "broadcast", flight.MetaRingPolicy: "block"}
}

func data(off int64, n int, seq uint64) fakeBatch {
	return fakeBatch{make([]byte, n), flight.FrameMeta{Seq: seq, Offset: off}}
}

func end(kind string, seq uint64) fakeBatch {
	return fakeBatch{nil, flight.FrameMeta{Seq: seq, End: kind, Tag: seq}}
}

// TestMirrorLies: a server whose ring stream does not add up makes
// Mirror fail with ErrStream, publish nothing and leave no local ring.
func TestMirrorLies(t *testing.T) {
	good := ringMeta(u1Header(10))
	noSlots := ringMeta(u1Header(10))
	delete(noSlots, flight.MetaRingSlots)
	commit := flight.EndCommit
	for _, tc := range []struct {
		name    string
		md      map[string]string
		batches []fakeBatch
	}{
		{"frame bigger than the spec", good, []fakeBatch{data(0, 20, 0), end(commit, 0)}},
		{"second batch past the end", good, []fakeBatch{data(0, 8, 0), data(8, 8, 0), end(commit, 0)}},
		{"batch at the wrong offset", good, []fakeBatch{data(0, 5, 0), data(6, 4, 0), end(commit, 0)}},
		{"commit before the end", good, []fakeBatch{data(0, 5, 0), end(commit, 0)}},
		{"commit of another frame", good, []fakeBatch{data(0, 10, 0), end(commit, 1)}},
		{"frame inside a frame", good, []fakeBatch{data(0, 5, 0), data(0, 5, 1)}},
		{"frames out of order", good, []fakeBatch{data(0, 10, 5), end(commit, 5), data(0, 10, 3)}},
		{"unknown end", good, []fakeBatch{data(0, 10, 0), end("maybe", 0)}},
		{"garbage header", ringMeta("\x93NUMPY garbage"), nil},
		{"no header", map[string]string{flight.MetaRingSlots: "4"}, nil},
		{"no slots", noSlots, nil},
		{"Fortran frame", ringMeta(strings.Replace(u1Header(10), "False", "True ", 1)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &flight.Server{Get: map[string]flight.GetFunc{flight.KindRing: fakeRing(tc.md, tc.batches, nil)}}
			c := dial(t, serve(t, srv), flight.DialOptions{})
			local := shmtest.Name()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := flight.Mirror(ctx, c, "liar", local, flight.MirrorOptions{})
			if !errors.Is(err, flight.ErrStream) {
				t.Errorf("Mirror: %v, want ErrStream", err)
			}
			honest := uint64(strings.Count(tc.name, "out of order")) // frame 5 was fine
			if st.Frames != honest || exists(local) {
				t.Errorf("Mirror published %d frames, want %d; local ring left: %v", st.Frames, honest, exists(local))
			}
		})
	}
}

// TestMirrorAbort: a frame the server aborts (overwritten while it was
// sent) is never published; the next one is.
func TestMirrorAbort(t *testing.T) {
	release := make(chan struct{})
	batches := []fakeBatch{data(0, 6, 0), end(flight.EndAbort, 0), data(0, 10, 1), end(flight.EndCommit, 1)}
	for i := range batches[2].data {
		batches[2].data[i] = 1
	}
	srv := &flight.Server{Get: map[string]flight.GetFunc{flight.KindRing: fakeRing(ringMeta(u1Header(10)), batches, release)}}
	c := dial(t, serve(t, srv), flight.DialOptions{})
	local := shmtest.Name()
	m := startMirror(t, c, "r", local, flight.MirrorOptions{})
	rd, err := openWhenThere(t, local).Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := rd.Next(ctx)
	if err != nil || f.Tag != 1 || string(f.Bytes()) != strings.Repeat("\x01", 10) {
		t.Errorf("first local frame: tag %d, %q, %v; want frame 1 of ones", f.Tag, f.Bytes(), err)
	}
	rd.Release()
	st, err := m.stop()
	if err != nil || st.Frames != 1 || st.Aborted != 1 || st.Lost != 1 {
		t.Errorf("Mirror: %+v, %v; want 1 frame, 1 aborted and lost", st, err)
	}
}

// TestMirrorRefused: a server that refuses the token, or a name that is
// not a ring, ends Mirror at once; reconnecting would not mend them.
func TestMirrorRefused(t *testing.T) {
	b := create(t, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{10}})
	srv := &flight.Server{Token: "right"}
	flight.ServeRings(srv)
	addr := serve(t, srv)
	for _, tc := range []struct {
		token, name string
		code        codes.Code
	}{
		{"wrong", "r", codes.Unauthenticated},
		{"right", b.Name(), codes.InvalidArgument}, // a block, not a ring
	} {
		c := dial(t, addr, flight.DialOptions{Token: tc.token})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := flight.Mirror(ctx, c, tc.name, shmtest.Name(), flight.MirrorOptions{})
		cancel()
		var fe *flight.Error
		if !errors.As(err, &fe) || fe.Code != tc.code || st.Reconnects != 0 {
			t.Errorf("token %q, ring %s: %v after %d reconnects, want %v at once", tc.token, tc.name, err, st.Reconnects, tc.code)
		}
	}
}
