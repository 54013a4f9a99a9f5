package flight_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	aflight "github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestPutGarbage sends DoPuts of random and truncated messages: each
// must fail, publish nothing, and leave the server serving.
func TestPutGarbage(t *testing.T) {
	addr := serve(t, &flight.Server{})
	c := dial(t, addr, flight.DialOptions{})
	rng := rand.New(rand.NewPCG(1, 2))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	good, want := goodPut(t)
	for i := range 60 {
		name := shmtest.Name()
		msgs := []*aflight.FlightData{{FlightDescriptor: flight.Descriptor(name), DataHeader: junk(rng.IntN(200)), DataBody: junk(rng.IntN(100))}}
		if i%2 == 1 { // a real schema message, then a corrupted copy of a real batch
			msgs = []*aflight.FlightData{{FlightDescriptor: flight.Descriptor(name), DataHeader: good[0].DataHeader}}
			h := append([]byte{}, good[1].DataHeader...)
			for range 1 + rng.IntN(4) {
				h[rng.IntN(len(h))] = byte(rng.Uint32())
			}
			msgs = append(msgs, &aflight.FlightData{DataHeader: h, DataBody: good[1].DataBody[:rng.IntN(len(good[1].DataBody)+1)], AppMetadata: good[1].AppMetadata})
		}
		s, err := c.Service().DoPut(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if s.Send(m) != nil {
				break
			}
		}
		s.CloseSend()
		_, err = s.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			// A flipped byte that changed nothing that matters (padding,
			// say): then the block must be the real one.
			if b, err := ndshm.Open(name); err != nil || !bytes.Equal(b.Bytes(), want) {
				t.Errorf("garbage put %d succeeded with other bytes: %v; header %x -> %x body %d", i, err, good[1].DataHeader, msgs[1].DataHeader, len(msgs[1].DataBody))
				for j := range want {
					if b.Bytes()[j] != want[j] {
						t.Errorf("first difference at %d", j)
						break
					}
				}
			} else {
				b.Close()
			}
			ndshm.Unlink(name)
		} else if exists(name) {
			t.Errorf("garbage put %d published a block", i)
		}
	}
	if _, err := c.List(context.Background()); err != nil {
		t.Errorf("the server stopped answering: %v", err)
	}
}

// goodPut returns the messages of a real DoPut of a float64 array:
// its schema, then one batch.
func goodPut(t *testing.T) ([]*aflight.FlightData, []byte) {
	var rec recorder
	src := create(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{100}})
	if err := flight.SendBlock(&rec, src.Spec(), src.Bytes(), 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec) != 2 {
		t.Fatalf("%d messages, want 2", len(rec))
	}
	return rec, src.Bytes()
}

// recorder keeps copies of the messages sent to it.
type recorder []*aflight.FlightData

func (r *recorder) Send(m *aflight.FlightData) error {
	*r = append(*r, &aflight.FlightData{
		DataHeader:  append([]byte{}, m.DataHeader...),
		DataBody:    append([]byte{}, m.DataBody...),
		AppMetadata: append([]byte{}, m.AppMetadata...),
	})
	return nil
}
