package flight_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func mustDType(t testing.TB, s string) ndshm.DType {
	t.Helper()
	var d ndshm.DType
	if err := d.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return d
}

// specs are the arrays every round trip is tried with: each layout
// (1-D column, tensors, flat), each element mapping, both orders.
var specs = []struct {
	dtype   string
	shape   []int
	fortran bool
}{
	{"<f8", []int{}, false},                                     // 0-d
	{"<f8", []int{0}, false},                                    // empty
	{"<i4", []int{0, 5}, false},                                 // no rows
	{"<i4", []int{5, 0}, false},                                 // empty rows
	{"<f4", []int{1000}, false},                                 // 1-D
	{"|b1", []int{17}, false},                                   // bool8
	{"<f2", []int{9, 3}, false},                                 // float16 tensors
	{"<u2", []int{7, 5, 3}, false},                              // 3-d tensors
	{"<i8", []int{300, 4000}, false},                            // many batches
	{"<f8", []int{6, 4, 2}, true},                               // Fortran: the transpose
	{"<c16", []int{100, 3}, false},                              // complex: fixed-size binary
	{">i4", []int{10}, false},                                   // big-endian: bytes as they are
	{"<M8[ms]", []int{11}, false},                               // datetime
	{"|S5", []int{4, 2}, false},                                 // bytes
	{"[('x', '<f8'), ('n', '<i2', (3,))]", []int{20, 2}, false}, // structured
	{"<u1", []int{2, 3 << 20}, false},                           // rows larger than a batch: flat
}

func TestPullPush(t *testing.T) {
	addr := serve(t, &flight.Server{Chunk: 1 << 20})
	c := dial(t, addr, flight.DialOptions{Chunk: 1 << 20})
	ctx := context.Background()
	for _, tc := range specs {
		s := ndshm.Spec{DType: mustDType(t, tc.dtype), Shape: tc.shape, Fortran: tc.fortran}
		t.Run(s.String(), func(t *testing.T) {
			src := create(t, s)
			if h, err := flight.Header(s); err != nil || string(h) != npyHeader(t, s) {
				t.Errorf("header %q, %v; Block.WriteTo writes %q", h, err, npyHeader(t, s))
			}
			local := shmtest.Name()
			b, err := c.Pull(ctx, src.Name(), local)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			check(t, "pulled", src, b)
			remote := shmtest.Name()
			if err := c.Push(ctx, b, remote); err != nil {
				t.Fatal(err)
			}
			defer ndshm.Unlink(remote)
			pushed, err := ndshm.Open(remote)
			if err != nil {
				t.Fatal(err)
			}
			defer pushed.Close()
			check(t, "pushed", src, pushed)
		})
	}
}

// check compares a copy with its source: spec and bytes.
func check(t *testing.T, what string, src, b *ndshm.Block) {
	t.Helper()
	if got, want := b.Spec().String(), src.Spec().String(); got != want || !b.DType().Equal(src.DType()) {
		t.Errorf("%s spec %s, want %s", what, got, want)
	}
	if !bytes.Equal(b.Bytes(), src.Bytes()) {
		t.Errorf("%s bytes differ", what)
	}
}

func TestPullErrors(t *testing.T) {
	addr := serve(t, &flight.Server{})
	c := dial(t, addr, flight.DialOptions{})
	ctx := context.Background()
	missing := shmtest.Name()
	if _, err := c.Pull(ctx, missing, shmtest.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pull of a missing block: %v, want fs.ErrNotExist", err)
	}
	src := create(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if _, err := c.Pull(ctx, src.Name(), src.Name()); !errors.Is(err, fs.ErrExist) {
		t.Errorf("pull onto an existing name: %v, want fs.ErrExist", err)
	}
	if err := c.Push(ctx, src, src.Name()); !errors.Is(err, fs.ErrExist) {
		t.Errorf("push onto an existing name: %v, want fs.ErrExist", err)
	}
}
