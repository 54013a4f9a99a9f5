package flight

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// codec is gRPC's protobuf codec, except that it decodes FlightData
// without copying its byte fields: they alias one contiguous copy of the
// message. gRPC's own decoding copies a message into one buffer and
// protobuf then copies data_body out of it again; this one leaves out the
// second copy of every byte received, and its allocation. The wire
// format is protobuf's: peers see no difference.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2("proto")} }

func (c codec) Name() string { return "proto" }

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	fd, ok := v.(*flight.FlightData)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	return decodeFlightData(data.Materialize(), fd)
}

// FlightData's field numbers (Flight.proto).
const (
	fieldDescriptor  = 1
	fieldDataHeader  = 2
	fieldAppMetadata = 3
	fieldDataBody    = 1000
)

// decodeFlightData decodes b into fd, whose byte fields alias b.
func decodeFlightData(b []byte, fd *flight.FlightData) error {
	fd.Reset()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("flight data: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return fmt.Errorf("flight data: %w", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("flight data: %w", protowire.ParseError(n))
		}
		b = b[n:]
		v = v[:len(v):len(v)] // see clipped
		switch num {
		case fieldDescriptor:
			fd.FlightDescriptor = new(flight.FlightDescriptor)
			if err := proto.Unmarshal(v, fd.FlightDescriptor); err != nil {
				return fmt.Errorf("flight data: descriptor: %w", err)
			}
		case fieldDataHeader:
			fd.DataHeader = v
		case fieldAppMetadata:
			fd.AppMetadata = v
		case fieldDataBody:
			fd.DataBody = v
		}
	}
	return nil
}
