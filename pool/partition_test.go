package pool

import (
	"errors"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		n, k, chunk int
		want        []part
	}{
		{0, 4, 0, nil},
		{1, 4, 0, []part{{0, 1}}},
		{3, 4, 0, []part{{0, 1}, {1, 2}, {2, 3}}},
		{10, 3, 0, []part{{0, 4}, {4, 7}, {7, 10}}},
		{1000, 4, 0, []part{{0, 250}, {250, 500}, {500, 750}, {750, 1000}}},
		{7, 1, 0, []part{{0, 7}}},
		{7, 0, 0, []part{{0, 7}}},
		{10, 3, 4, []part{{0, 4}, {4, 8}, {8, 10}}},
		{8, 3, 4, []part{{0, 4}, {4, 8}}},
		{3, 3, 10, []part{{0, 3}}},
		{0, 3, 10, nil},
	} {
		if got := split(tc.n, tc.k, tc.chunk); !slices.Equal(got, tc.want) {
			t.Errorf("split(%d, %d, %d) = %v, want %v", tc.n, tc.k, tc.chunk, got, tc.want)
		}
	}
}

// Every split covers the rows exactly once, in order, with no empty
// part, and passes checkParts.
func TestSplitCovers(t *testing.T) {
	for n := range 40 {
		for k := 1; k < 9; k++ {
			for chunk := range 6 {
				parts := split(n, k, chunk)
				next := 0
				for i, p := range parts {
					size := p.hi - p.lo
					if p.lo != next || size <= 0 || chunk > 0 && size != chunk && i != len(parts)-1 ||
						chunk == 0 && (size < n/k || size > n/k+1) {
						t.Fatalf("split(%d, %d, %d) = %v", n, k, chunk, parts)
					}
					next = p.hi
				}
				if next != n || chunk == 0 && len(parts) != min(n, k) {
					t.Fatalf("split(%d, %d, %d) = %v", n, k, chunk, parts)
				}
				if err := checkParts(parts, n); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestCheckPartsRefuses(t *testing.T) {
	for _, parts := range [][]part{
		{{0, 6}, {5, 10}}, // overlap
		{{0, 5}, {5, 11}}, // past the end
		{{-1, 5}},         // before the start
		{{4, 2}},          // inverted
		{{5, 10}, {0, 5}}, // out of order: disjointness is not proved
	} {
		if err := checkParts(parts, 10); !errors.Is(err, errRange) {
			t.Errorf("checkParts(%v) = %v", parts, err)
		}
	}
	if err := checkParts([]part{{0, 3}, {5, 10}}, 10); err != nil {
		t.Errorf("a gap is no overlap: %v", err)
	}
}
