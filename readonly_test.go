package ndshm_test

import (
	"runtime/debug"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A block opened ReadOnly reads what others write, hands out read-only
// descriptors, and faults on a write.
func TestReadOnly(t *testing.T) {
	s := ndshm.Spec{DType: ndshm.Int64, Shape: []int{3}}
	for _, open := range []struct {
		name string
		f    func(name string) (*ndshm.Block, error)
	}{
		{"Open", func(n string) (*ndshm.Block, error) { return ndshm.Open(n, ndshm.ReadOnly()) }},
		{"OpenRaw", func(n string) (*ndshm.Block, error) { return ndshm.OpenRaw(n, s, ndshm.ReadOnly()) }},
	} {
		t.Run(open.name, func(t *testing.T) {
			w, err := ndshm.Create(shmtest.Name(), s)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			wa, _ := ndshm.View[int64](w)
			r, err := open.f(w.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ra, err := ndshm.View[int64](r)
			if err != nil {
				t.Fatal(err)
			}
			wa.Set(42, 1)
			if got := ra.At(1); got != 42 {
				t.Errorf("read-only view reads %d, want 42", got)
			}
			f, err := r.File()
			if err != nil {
				t.Fatal(err)
			}
			o, err := ndshm.FromFile(f)
			f.Close()
			if err != nil {
				t.Fatalf("FromFile of a read-only block's File: %v", err)
			}
			defer o.Close()
			for what, a := range map[string]ndshm.Array[int64]{"ReadOnly": ra, "FromFile of its File": mustView(t, o)} {
				if !faults(func() { a.Set(7, 0) }) {
					t.Errorf("%s: a write did not fault", what)
				}
			}
			if got := wa.At(0); got != 0 {
				t.Errorf("after the faulting writes element 0 is %d", got)
			}
		})
	}
}

func mustView(t *testing.T, b *ndshm.Block) ndshm.Array[int64] {
	a, err := ndshm.View[int64](b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// faults reports whether f faulted on a memory access.
func faults(f func()) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { faulted = recover() != nil }()
	f()
	return false
}
