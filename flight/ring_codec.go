package flight

import (
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/mem"
)

// ringCodec is the gRPC codec of one ring stream's DoGet
// (grpc.ForceCodecV2): codec, except that each FlightData is gathered
// from gRPC's transport buffers into one of two buffers of its own, used
// in turn, instead of a new slice per message: a stream of frames then
// allocates (and zeroes) nothing per frame. A FlightData stays valid
// until the second Recv after its own, when its buffer is reused: the
// stream's one reader (Mirror's session, through flight.Reader, which
// releases a batch at the next) is done with it by then. A ringCodec
// serves one stream, whose messages are received one at a time.
type ringCodec struct {
	codec
	bufs [2][]byte
	next int
}

func newRingCodec() *ringCodec { return &ringCodec{codec: newCodec()} }

func (c *ringCodec) Unmarshal(data mem.BufferSlice, v any) error {
	fd, ok := v.(*flight.FlightData)
	if !ok {
		return c.codec.Unmarshal(data, v)
	}
	b := c.bufs[c.next]
	if n := data.Len(); cap(b) < n {
		b = make([]byte, n)
	} else {
		b = b[:n]
	}
	data.CopyTo(b) // gRPC frees data's buffers after this call
	c.bufs[c.next], c.next = b, 1-c.next
	return decodeFlightData(b, fd)
}
