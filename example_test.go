package ndshm_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"math"
	"os"
	"sync"

	"github.com/ndshm/ndshm"
)

// exampleName is a block name no other process uses.
func exampleName(what string) string { return fmt.Sprintf("ndshm-example-%s-%d", what, os.Getpid()) }

func ExampleCreate() {
	name := exampleName("create")
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{2, 3}})
	if err != nil {
		log.Fatal(err)
	}
	a, err := ndshm.View[float64](b)
	if err != nil {
		log.Fatal(err)
	}
	for i := range a.Dim(0) {
		for j := range a.Dim(1) {
			a.Set(float64(10*i+j), i, j)
		}
	}

	// Another process (here, this one) opens the block by name and sees
	// the same memory, NumPy included: np.load('/dev/shm/'+name, mmap_mode='r+').
	o, err := ndshm.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	v, err := ndshm.View[float64](o)
	if err != nil {
		log.Fatal(err)
	}
	flat, _ := v.Flat()
	fmt.Println(o.Spec(), v.At(1, 2), flat)
	o.Close()

	// The creator owns the block: its Close removes the name too.
	b.Close()
	_, err = ndshm.Stat(name)
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// <f8 (2, 3) order C 12 [0 1 2 10 11 12]
	// true
}

func ExampleView() {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Int32, Shape: []int{2, 3}, Fortran: true})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[int32](b)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 2 {
		for j := range 3 {
			a.Set(int32(10*i+j), i, j)
		}
	}
	flat, _ := a.Flat()
	fmt.Println("strides", a.Strides(), "memory", flat)
	_, ok := a.Rows(0, 1).Flat()
	fmt.Println("row 0 contiguous:", ok)

	// A view must match the dtype.
	_, err = ndshm.View[float32](b)
	fmt.Println(err)
	// Output:
	// strides [1 2] memory [0 10 1 11 2 12]
	// row 0 contiguous: false
	// dtype mismatch: cannot view <i4 as Go float32
}

// Workers (goroutines here, processes in general) each take a range of
// rows: writes to disjoint rows need no lock.
func ExampleArray_Rows() {
	b, err := ndshm.Create(exampleName("rows"), ndshm.Spec{DType: ndshm.Float64, Shape: []int{6, 4}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[float64](b)
	if err != nil {
		log.Fatal(err)
	}
	const workers = 3
	n := a.Dim(0)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		part := a.Rows(lo, hi)
		wg.Go(func() {
			for i := range part.Dim(0) {
				for j := range part.Dim(1) {
					part.Set(float64(100*w+10*(lo+i)+j), i, j)
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		row, _ := a.Rows(i, i+1).Flat()
		fmt.Println(row)
	}
	// Output:
	// [0 1 2 3]
	// [10 11 12 13]
	// [120 121 122 123]
	// [130 131 132 133]
	// [240 241 242 243]
	// [250 251 252 253]
}

// An anonymous block has no name: share it as a descriptor, as with
// exec.Cmd.ExtraFiles (the child calls ndshm.FromFile(os.NewFile(3, "block"))).
func ExampleCreateAnon() {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	f, err := b.File()
	if err != nil {
		log.Fatal(err)
	}
	o, err := ndshm.FromFile(f)
	f.Close() // FromFile keeps its own descriptor
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	copy(b.Bytes(), "shm!")
	fmt.Printf("%q %q %v\n", o.Name(), o.Bytes(), o.Info().Anonymous)
	// Output:
	// "" "shm!" true
}

// A block that Python made with multiprocessing.shared_memory has no
// header: attach it with its dtype and shape.
func ExampleOpenRaw() {
	name := exampleName("raw")
	raw := make([]byte, 4*4) // SharedMemory(name, create=True, size=16), filled with float32s
	for i := range 4 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i)+0.5))
	}
	if err := os.WriteFile("/dev/shm/"+name, raw, 0o600); err != nil {
		log.Fatal(err)
	}
	defer ndshm.Unlink(name)

	b, err := ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Float32, Shape: []int{2, 2}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[float32](b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.At(0, 1), a.At(1, 1), b.Info().Kind)
	// Output:
	// 1.5 3.5 raw
}

// WriteTo saves a block as a .npy file; Load makes a block from one.
func ExampleLoad() {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Int16, Shape: []int{3}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[int16](b)
	for i := range 3 {
		a.Set(int16(-7*i), i)
	}
	f, err := os.CreateTemp("", "ndshm-example-*.npy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	if _, err := b.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	f.Close()

	c, err := ndshm.Load(f.Name(), exampleName("load"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	v, _ := ndshm.View[int16](c)
	fmt.Println(c.Spec(), v.At(0), v.At(1), v.At(2))
	// Output:
	// <i2 (3,) order C 0 -7 -14
}
