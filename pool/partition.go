package pool

import "fmt"

// A part is one partition: rows [lo, hi) along axis 0, the flat index of
// a 1-D array.
type part struct{ lo, hi int }

func (p part) String() string { return fmt.Sprintf("[%d, %d)", p.lo, p.hi) }

// split divides rows [0, n) into contiguous parts: k of them, whose sizes
// differ by at most one, or, with chunk > 0, parts of chunk rows (the
// last may be shorter). It never makes an empty part: with more workers
// than rows some workers get none, and an empty array has no parts.
func split(n, k, chunk int) []part {
	if n <= 0 {
		return nil
	}
	if chunk > 0 {
		parts := make([]part, 0, (n-1)/chunk+1)
		for lo := 0; lo < n; lo += chunk {
			parts = append(parts, part{lo, min(lo+chunk, n)})
		}
		return parts
	}
	k = max(1, min(k, n))
	parts := make([]part, k)
	q, r := n/k, n%k
	lo := 0
	for i := range parts {
		size := q
		if i < r {
			size++
		}
		parts[i] = part{lo, lo + size}
		lo += size
	}
	return parts
}

// checkParts proves what a map relies on, before anything is written:
// every part lies inside [0, n), and the parts are in order and do not
// overlap. Distinct rows along axis 0 of an array hold distinct elements,
// in C and Fortran order alike, so no two workers write the same element.
func checkParts(parts []part, n int) error {
	prev := 0
	for i, p := range parts {
		if p.lo < prev || p.lo > p.hi || p.hi > n {
			return fmt.Errorf("%w: partition %d %v overlaps another or leaves the array's %d rows", errRange, i, p, n)
		}
		prev = p.hi
	}
	return nil
}
