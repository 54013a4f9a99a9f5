package pool

import (
	"fmt"
	"strconv"
	"strings"
)

// Params are an op's numeric parameters, at most four: "affine=2,1"
// has 2 and 1. They travel to workers as float64.
type Params []float64

// ParseOp splits an op string, NAME or NAME=P1,P2,...: "sqrt",
// "affine=2,1", "histogram=10,0,1". Parameters are floats as
// strconv.ParseFloat reads them ("1e3", "-inf"); at most four. It checks
// only the syntax: whether the op exists and takes those parameters is
// checked when it runs.
func ParseOp(s string) (name string, p Params, err error) {
	name, args, hasArgs := strings.Cut(strings.TrimSpace(s), "=")
	name = strings.TrimSpace(name)
	if !validOpName(name) {
		return "", nil, fmt.Errorf("%w: op %q: name must be 1 to %d letters, digits, '_', '-' or '.'", ErrParams, s, maxOpName)
	}
	if !hasArgs {
		return name, nil, nil
	}
	fields := strings.Split(args, ",")
	if len(fields) > maxParams {
		return "", nil, fmt.Errorf("%w: op %q: %d parameters, at most %d", ErrParams, s, len(fields), maxParams)
	}
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return "", nil, fmt.Errorf("%w: op %q: parameter %d, %q, is not a number", ErrParams, s, i+1, strings.TrimSpace(f))
		}
		p = append(p, v)
	}
	return name, p, nil
}

// validOpName reports whether s may name an op: it fits a task frame and
// cannot be confused with the parameter syntax.
func validOpName(s string) bool {
	if s == "" || len(s) > maxOpName {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// String formats p as ParseOp reads it, without the name: "2,1".
func (p Params) String() string {
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// want checks the number of parameters an op takes.
func (p Params) want(op string, names ...string) error {
	if len(p) == len(names) {
		return nil
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: %s takes no parameters, got %d", ErrParams, op, len(p))
	}
	return fmt.Errorf("%w: %s takes %d parameter(s), %s=%s; got %d", ErrParams, op,
		len(names), op, strings.Join(names, ","), len(p))
}
