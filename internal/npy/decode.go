package npy

import (
	"errors"
	"fmt"
)

// headerKeys are the keys a header dict must have, in the order that
// missing ones are reported.
var headerKeys = [...]string{"descr", "fortran_order", "shape"}

// decodeHeader interprets the parsed dict of a header. Unlike Python,
// which keeps the last of duplicate keys, it rejects them: a header that
// says two things is not one to trust.
func decodeHeader(v value) (Header, error) {
	if v.kind != kindDict {
		return Header{}, fmt.Errorf("npy: header: got %s, want a dict", v.kind)
	}
	var vals [len(headerKeys)]*value
	for i := 0; i < len(v.items); i += 2 {
		k := v.items[i]
		if k.kind != kindString {
			return Header{}, fmt.Errorf("npy: header: key is %s, want a string", k.kind)
		}
		j := keyIndex(k.str)
		if j < 0 {
			return Header{}, fmt.Errorf("npy: header: unexpected key %s", quoteShort(k.str))
		}
		if vals[j] != nil {
			return Header{}, fmt.Errorf("npy: header: duplicate key %s", quoteShort(k.str))
		}
		vals[j] = &v.items[i+1]
	}
	for j, p := range vals {
		if p == nil {
			return Header{}, fmt.Errorf("npy: header: missing key '%s'", headerKeys[j])
		}
	}
	return decodeValues(*vals[0], *vals[1], *vals[2])
}

func keyIndex(k string) int {
	for i, name := range headerKeys {
		if k == name {
			return i
		}
	}
	return -1
}

func decodeValues(descr, fortran, shape value) (Header, error) {
	var h Header
	var err error
	if h.Descr, err = decodeDescr(descr); err != nil {
		return Header{}, err
	}
	if fortran.kind != kindBool {
		return Header{}, fmt.Errorf("npy: header: fortran_order is %s, want a bool", fortran.kind)
	}
	h.Fortran = fortran.bool
	if h.Shape, err = decodeShape("shape", shape); err != nil {
		return Header{}, err
	}
	return h, nil
}

// decodeShape converts a tuple of non-negative ints. It always returns a
// non-nil slice, so that a 0-d shape reads back the same way every time.
func decodeShape(what string, v value) ([]int, error) {
	if v.kind != kindTuple {
		return nil, fmt.Errorf("npy: header: %s is %s, want a tuple", what, v.kind)
	}
	dims := make([]int, len(v.items))
	for i, x := range v.items {
		if x.kind != kindInt {
			return nil, fmt.Errorf("npy: header: %s has %s, want an int", what, x.kind)
		}
		dims[i] = x.int
	}
	if err := checkShape(what, dims); err != nil {
		return nil, fmt.Errorf("npy: header: %w", err)
	}
	return dims, nil
}

// decodeDescr converts a type string or a list of field tuples.
func decodeDescr(v value) (Descr, error) {
	switch v.kind {
	case kindString:
		if v.str == "" {
			return Descr{}, errors.New("npy: header: empty descr")
		}
		return Descr{Type: v.str}, nil
	case kindList:
		fields := make([]Field, 0, len(v.items))
		for _, x := range v.items {
			f, err := decodeField(x)
			if err != nil {
				return Descr{}, err
			}
			fields = append(fields, f)
		}
		return Descr{Fields: fields}, nil
	}
	return Descr{}, fmt.Errorf("npy: header: descr is %s, want a string or a list", v.kind)
}

// decodeField converts a (name, descr) or (name, descr, shape) tuple.
func decodeField(v value) (Field, error) {
	if v.kind != kindTuple || len(v.items) < 2 || len(v.items) > 3 {
		return Field{}, errors.New("npy: header: field is not a (name, descr) or (name, descr, shape) tuple")
	}
	name := v.items[0]
	switch name.kind {
	case kindString:
	case kindTuple:
		return Field{}, errors.New("npy: header: field titles, (title, name) tuples, are not supported")
	default:
		return Field{}, fmt.Errorf("npy: header: field name is %s, want a string", name.kind)
	}
	f := Field{Name: name.str}
	var err error
	if f.Descr, err = decodeDescr(v.items[1]); err != nil {
		return Field{}, err
	}
	if len(v.items) == 3 {
		f.Shape, err = decodeShape("field "+quoteShort(f.Name)+" shape", v.items[2])
		if err != nil {
			return Field{}, err
		}
		if len(f.Shape) == 0 {
			f.Shape = nil // (name, descr, ()) is a scalar field
		}
	}
	return f, nil
}

// ParseDescr parses a descr written as the Python literal a header
// holds: a quoted type string or a list of field tuples, as
// Descr.Literal writes them.
func ParseDescr(s string) (Descr, error) {
	v, err := parseLiteral(s)
	if err != nil {
		return Descr{}, err
	}
	return decodeDescr(v)
}
