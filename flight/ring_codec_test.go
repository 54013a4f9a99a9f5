package flight

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// The ring stream's codec decodes what protobuf encodes, aliasing its
// two buffers in turn, and refuses garbage without panicking.
func TestRingCodec(t *testing.T) {
	in := &flight.FlightData{
		FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"cam"}},
		DataHeader:       []byte("header"), AppMetadata: []byte(`{"seq":1}`), DataBody: bytes.Repeat([]byte{7}, 100000),
	}
	wire, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	c := newRingCodec()
	var outs [3]flight.FlightData
	for i := range outs {
		// Split as gRPC's transport buffers are.
		data := mem.BufferSlice{mem.SliceBuffer(wire[:5000]), mem.SliceBuffer(wire[5000:])}
		if err := c.Unmarshal(data, &outs[i]); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&outs[i], in) {
			t.Fatalf("decoded %d: differs from what was encoded", i)
		}
	}
	if &outs[0].DataBody[0] != &outs[2].DataBody[0] || &outs[0].DataBody[0] == &outs[1].DataBody[0] {
		t.Errorf("bodies do not alias the two buffers in turn")
	}
	in.DataBody = in.DataBody[:300]
	small, _ := proto.Marshal(in)
	for n := range len(small) { // every truncation: an error or a shorter message, never a panic
		var fd flight.FlightData
		c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(small[:n])}, &fd)
	}
	var fd flight.FlightData
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0xff, 0xff})}, &fd); err == nil {
		t.Errorf("garbage decoded")
	}
}
