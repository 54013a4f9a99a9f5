package flight

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/protobuf/proto"
)

// TestDecodeFlightData checks the aliasing decoder against protobuf's
// on real messages, and that it never panics on corrupt ones.
func TestDecodeFlightData(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := range 200 {
		m := &flight.FlightData{DataHeader: bytes(rng.IntN(300)), AppMetadata: bytes(rng.IntN(40)), DataBody: bytes(rng.IntN(5000))}
		if i%3 == 0 {
			m.FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"x", "y"}, Cmd: bytes(5)}
		}
		wire, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got, want flight.FlightData
		if err := decodeFlightData(wire, &got); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(wire, &want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, &want) {
			t.Fatalf("message %d decodes differently", i)
		}
		for range 5 { // corrupt: an error or a message, never a panic
			bad := append([]byte{}, wire...)
			if len(bad) > 0 {
				bad[rng.IntN(len(bad))] = byte(rng.Uint32())
			}
			decodeFlightData(bad[:rng.IntN(len(bad)+1)], &got)
		}
	}
}
