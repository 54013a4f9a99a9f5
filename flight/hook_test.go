package flight_test

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
	"testing"
	"time"

	aflight "github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestGetHook dispatches a ticket of another kind to its handler, as a
// ring's stream will be, and refuses an unknown kind with NotFound.
func TestGetHook(t *testing.T) {
	var got string
	srv := &flight.Server{Get: map[string]flight.GetFunc{
		"echo": func(ctx context.Context, name string, w aflight.FlightService_DoGetServer) error {
			got = name
			return w.Send(&aflight.FlightData{AppMetadata: []byte(name)})
		},
	}}
	c := dial(t, serve(t, srv), flight.DialOptions{})
	ctx := context.Background()
	s, err := c.Service().DoGet(ctx, &aflight.Ticket{Ticket: flight.Ticket{Kind: "echo", Name: "x"}.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Recv()
	if err != nil || string(m.AppMetadata) != "x" || got != "x" {
		t.Errorf("echo: %v, %q, handler saw %q", err, m.GetAppMetadata(), got)
	}
	s, err = c.Service().DoGet(ctx, &aflight.Ticket{Ticket: flight.Ticket{Kind: "nope", Name: "x"}.Bytes()})
	if err == nil {
		_, err = s.Recv()
	}
	if err == nil {
		t.Error("an unknown ticket kind was served")
	}
}

func TestMaxPut(t *testing.T) {
	c := dial(t, serve(t, &flight.Server{MaxPut: 1000}), flight.DialOptions{})
	small := create(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{125}})
	big := create(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{126}})
	ctx := context.Background()
	name := shmtest.Name()
	if err := c.Push(ctx, small, name); err != nil {
		t.Errorf("push of 1000 bytes: %v", err)
	}
	ndshm.Unlink(name)
	name = shmtest.Name()
	if err := c.Push(ctx, big, name); !errors.Is(err, syscall.ENOSPC) || exists(name) {
		t.Errorf("push of 1008 bytes: %v, want ENOSPC and no block", err)
		ndshm.Unlink(name)
	}
	var pe *fs.PathError
	if err := c.Push(ctx, big, name); !errors.As(err, &pe) || pe.Path != name {
		t.Errorf("push error %v names no block", err)
	}
}

// TestPushUnsendable fails at once, without waiting for the server, for
// a block whose elements do not fit in a batch.
func TestPushUnsendable(t *testing.T) {
	c := dial(t, serve(t, &flight.Server{}), flight.DialOptions{Chunk: 16})
	var d ndshm.DType
	if err := d.UnmarshalText([]byte("[('a', '<f8', (4,))]")); err != nil {
		t.Fatal(err)
	}
	b := create(t, ndshm.Spec{DType: d, Shape: []int{3}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := shmtest.Name()
	if err := c.Push(ctx, b, name); !errors.Is(err, errors.ErrUnsupported) || ctx.Err() != nil || exists(name) {
		t.Errorf("push of 32-byte elements in 16-byte batches: %v (ctx %v)", err, ctx.Err())
	}
}
