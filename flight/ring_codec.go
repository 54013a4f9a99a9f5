package flight

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// aliasCodec is the gRPC codec of one ring stream's DoGet
// (grpc.ForceCodecV2): protobuf, except that a FlightData's byte fields
// alias one of two buffers of its own instead of being copied out of a
// new slice each. gRPC's transport buffers are gathered into the buffer
// (the one copy before the ring's slot); the stock codec would allocate
// and zero a slice for that and then copy data_body out of it again.
// A FlightData stays valid until the second Recv after its own, when
// its buffer is reused: the stream's one reader (Mirror's session, through
// flight.Reader, which releases a batch at the next) is done with it by
// then. A codec serves one stream, whose messages are received one at a
// time.
type aliasCodec struct {
	bufs [2][]byte
	next int
}

func (*aliasCodec) Name() string { return "proto" }

func (*aliasCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, errors.New("flight: codec: not a protobuf message")
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (c *aliasCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b := c.bufs[c.next]
	if n := data.Len(); cap(b) < n {
		b = make([]byte, n)
	} else {
		b = b[:n]
	}
	data.CopyTo(b) // gRPC frees data's buffers after this call
	c.bufs[c.next], c.next = b, 1-c.next
	if fd, ok := v.(*flight.FlightData); ok {
		return decodeFlightData(b, fd)
	}
	m, ok := v.(proto.Message)
	if !ok {
		return errors.New("flight: codec: not a protobuf message")
	}
	return proto.Unmarshal(b, m)
}

// decodeFlightData decodes b into fd, its byte fields aliasing b.
func decodeFlightData(b []byte, fd *flight.FlightData) error {
	*fd = flight.FlightData{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case typ != protowire.BytesType:
		case num == 1:
			fd.FlightDescriptor = &flight.FlightDescriptor{}
			if err := proto.Unmarshal(v, fd.FlightDescriptor); err != nil {
				return err
			}
		case num == 2:
			fd.DataHeader = v
		case num == 3:
			fd.AppMetadata = v
		case num == 1000:
			fd.DataBody = v
		}
	}
	return nil
}
