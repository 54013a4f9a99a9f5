package ndshm_test

import (
	"testing"

	"github.com/ndshm/ndshm"
)

var (
	sinkArr  ndshm.Array[float64]
	sinkErr  error
	sinkF    float64
	sinkFlat []float64
	sinkOK   bool
)

// The hot paths allocate nothing: views are made per task, per process.
func TestAllocs(t *testing.T) {
	for _, s := range []ndshm.Spec{
		{DType: ndshm.Float64, Shape: []int{6, 5}},
		{DType: ndshm.Float64, Shape: []int{6, 5}, Fortran: true},
		{DType: ndshm.Float64, Shape: []int{4, 3, 2, 5}},
	} {
		b := tBlock(t, s)
		a, err := ndshm.View[float64](b)
		if err != nil {
			t.Fatal(err)
		}
		last := make([]int, a.NDim())
		for k := range last {
			last[k] = a.Dim(k) - 1
		}
		i, j := 1, 3
		sub := append([]int{1}, last[1:]...) // an index of Rows(i, j)
		cases := []struct {
			name string
			f    func()
		}{
			{"View", func() { sinkArr, sinkErr = ndshm.View[float64](b) }},
			{"Rows", func() { sinkArr = a.Rows(1, 3) }},
			{"Rows(i,j)", func() { sinkArr = a.Rows(i, j) }},
			{"Rows.Rows", func() { sinkArr = a.Rows(0, j).Rows(i, 2) }},
			{"Index", func() { sinkArr = a.Index(i) }},
			{"Rows.Index", func() { sinkArr = a.Rows(i, j).Index(0) }},
			{"Flat", func() { sinkFlat, sinkOK = a.Flat() }},
			{"Rows.Flat", func() { sinkFlat, sinkOK = a.Rows(i, j).Flat() }},
			{"At", func() { sinkF = a.At(last...) }},
			{"Set", func() { a.Set(1.5, last...) }},
			{"Rows.At", func() { sinkF = a.Rows(i, j).At(sub...) }},
		}
		if a.NDim() == 2 {
			cases = append(cases,
				struct {
					name string
					f    func()
				}{"At(i,j)", func() { sinkF = a.At(i, j) }},
				struct {
					name string
					f    func()
				}{"Set(i,j)", func() { a.Set(2.5, i, j) }},
			)
		}
		for _, c := range cases {
			if n := testing.AllocsPerRun(100, c.f); n != 0 {
				t.Errorf("%v: %s allocates %v times", s, c.name, n)
			}
		}
	}
	b := tBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{100}})
	if n := testing.AllocsPerRun(100, func() { _, sinkErr = ndshm.View[bool](b) }); n != 0 {
		t.Errorf("View[bool] allocates %v times", n)
	}
}
