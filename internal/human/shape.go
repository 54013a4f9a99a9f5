package human

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxDims is NumPy's limit on dimensions (NPY_MAXDIMS in NumPy 1.x),
// which the .npy reader enforces too.
const maxDims = 32

// ParseShape parses a shape: comma-separated non-negative sizes, "3,4".
// Python's tuple spelling works too, "(3, 4)" and "(5,)", so a shape can
// be pasted from NumPy; "" and "()" are the shape of a scalar. It returns
// a non-nil slice.
func ParseShape(s string) ([]int, error) {
	body := strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(body, "("); ok {
		if inner, ok = strings.CutSuffix(inner, ")"); !ok {
			return nil, fmt.Errorf("shape %q: unbalanced parenthesis", s)
		}
		body = strings.TrimSpace(inner)
	}
	if body == "" {
		return []int{}, nil
	}
	// One trailing comma, as in Python's (5,).
	if trimmed, ok := strings.CutSuffix(body, ","); ok {
		body = trimmed
	}
	parts := strings.Split(body, ",")
	if len(parts) > maxDims {
		return nil, fmt.Errorf("shape %q: %d dimensions, at most %d allowed", s, len(parts), maxDims)
	}
	dims := make([]int, len(parts))
	for i, p := range parts {
		d, err := parseDim(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("shape %q: dimension %d: %w", s, i, err)
		}
		dims[i] = d
	}
	return dims, nil
}

// parseDim parses one size: decimal digits only, so that signs, spaces
// inside numbers and Go's 0x or 1_000 forms are refused.
func parseDim(p string) (int, error) {
	if p == "" {
		return 0, errors.New("empty")
	}
	if p[0] == '-' {
		return 0, fmt.Errorf("%s is negative", p)
	}
	for _, c := range []byte(p) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a non-negative integer", p)
		}
	}
	d, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("%s is too large", p)
	}
	return d, nil
}

// FormatShape is the inverse of ParseShape: "3,4", "" for a scalar.
func FormatShape(dims []int) string {
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	return b.String()
}

// Shape writes a shape as NumPy prints it: (3, 4), (5,), ().
func Shape(dims []int) string {
	if len(dims) == 1 {
		return "(" + strconv.Itoa(dims[0]) + ",)"
	}
	return "(" + strings.ReplaceAll(FormatShape(dims), ",", ", ") + ")"
}
