package flight_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	aflight "github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// arrowClient is arrow-go's own Flight client: an independent reader of
// what the server sends.
func arrowClient(t *testing.T, addr string) aflight.Client {
	t.Helper()
	c, err := aflight.NewClientWithMiddleware(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// npyHeader returns the .npy header of an array of spec s.
func npyHeader(t *testing.T, s ndshm.Spec) string {
	b, err := ndshm.CreateAnon(s)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return string(buf.Bytes()[:buf.Len()-s.Size()])
}

func TestArrowClientReads(t *testing.T) {
	addr := serve(t, &flight.Server{})
	c := arrowClient(t, addr)
	s := ndshm.Spec{DType: ndshm.Float32, Shape: []int{50, 4, 3}}
	src := create(t, s)
	ctx := context.Background()
	info, err := c.GetFlightInfo(ctx, flight.Descriptor(src.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if info.TotalBytes != int64(s.Size()) || info.TotalRecords != 50 {
		t.Errorf("info: %d bytes, %d records; want %d, 50", info.TotalBytes, info.TotalRecords, s.Size())
	}
	stream, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	r, err := aflight.NewRecordReader(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	f := r.Schema().Field(0)
	ext, ok := f.Type.(arrow.ExtensionType)
	if !ok || ext.ExtensionName() != "arrow.fixed_shape_tensor" || ext.Serialize() != `{"shape":[4,3]}` {
		t.Fatalf("column type %s, want arrow.fixed_shape_tensor {\"shape\":[4,3]}", f.Type)
	}
	if !arrow.TypeEqual(ext.StorageType(), arrow.FixedSizeListOfNonNullable(12, arrow.PrimitiveTypes.Float32)) {
		t.Errorf("storage %s", ext.StorageType())
	}
	md := r.Schema().Metadata()
	if h, _ := md.GetValue(flight.MetaHeader); h != npyHeader(t, s) {
		t.Errorf("npy header %q, want %q", h, npyHeader(t, s))
	}
	var got []byte
	for r.Next() {
		col := r.RecordBatch().Column(0).(array.ExtensionArray).Storage().(*array.FixedSizeList)
		vals := col.ListValues().(*array.Float32)
		got = append(got, arrow.Float32Traits.CastToBytes(vals.Float32Values())...)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src.Bytes()) {
		t.Error("arrow-go read different bytes")
	}
}

// putStream sends a DoPut of one float64 column with the .npy header
// hdr and batches of the given float64 counts, with app_metadata from
// meta(i, offset), through arrow-go's client, and returns the error.
func putStream(t *testing.T, c aflight.Client, name, hdr string, counts []int, meta func(i, off int) []byte) error {
	ctx := context.Background()
	s, err := c.DoPut(ctx)
	if err != nil {
		return err
	}
	md := arrow.NewMetadata([]string{flight.MetaHeader}, []string{hdr})
	schema := arrow.NewSchema([]arrow.Field{{Name: "data", Type: arrow.PrimitiveTypes.Float64}}, &md)
	w := aflight.NewRecordWriter(s, ipc.WithSchema(schema))
	w.SetFlightDescriptor(flight.Descriptor(name))
	off := 0
	for i, n := range counts {
		b := array.NewFloat64Builder(memory.DefaultAllocator)
		for j := range n {
			b.Append(float64(off/8 + j))
		}
		col := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
		err := w.WriteWithAppMetadata(rec, meta(i, off))
		rec.Release()
		col.Release()
		b.Release()
		if err != nil {
			break
		}
		off += 8 * n
	}
	w.Close()
	s.CloseSend()
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func honest(i, off int) []byte {
	b, _ := json.Marshal(map[string]int{"seq": i, "offset": off})
	return b
}

func TestPutLies(t *testing.T) {
	addr := serve(t, &flight.Server{})
	c := arrowClient(t, addr)
	hdr := npyHeader(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	cases := []struct {
		name   string
		hdr    string
		counts []int
		meta   func(i, off int) []byte
	}{
		{"honest", hdr, []int{4, 6}, honest},
		{"short", hdr, []int{4, 5}, honest},
		{"long", hdr, []int{4, 7}, honest},
		{"extra batch", hdr, []int{4, 6, 1}, honest},
		{"no batches", hdr, nil, honest},
		{"offset", hdr, []int{4, 6}, func(i, off int) []byte { return honest(i, off+8*i) }},
		{"sequence", hdr, []int{4, 6}, func(i, off int) []byte { return honest(1-i, off) }},
		{"no app_metadata", hdr, []int{4, 6}, func(int, int) []byte { return nil }},
		{"no header", "", []int{10}, honest},
		{"bad header", "\x93NUMPY\x01\x00{'descr': '<f8', 'shape': (-1,)}", []int{10}, honest},
		{"huge header", npyHeader(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{0}})[:10] + "junk", []int{1}, honest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := shmtest.Name()
			err := putStream(t, c, name, tc.hdr, tc.counts, tc.meta)
			defer ndshm.Unlink(name)
			if tc.name == "honest" {
				if err != nil || !exists(name) {
					t.Fatalf("honest put: %v, block exists %v", err, exists(name))
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("put: %v, want InvalidArgument", err)
			}
			if exists(name) {
				t.Error("a block was published")
			}
		})
	}
}
