package npy

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func FuzzRead(f *testing.F) {
	for _, h := range roundTripTests {
		if b, err := h.h.Encode(64); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	for _, dict := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }",
		`{"shape": (), "descr": [('a', '<i4', ()), ("b", [('c', '|u1', (2, 3))])], "fortran_order": True}`,
		`{'descr': '\x3c\u0066\U00000038\t\\\'', 'fortran_order': False, 'shape': ((3,)), }`,
		"{'descr': [(('title', 'x'), '<f8')], 'fortran_order': False, 'shape': (), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 99999999999999999999), }",
		"{'descr': '<f8', 'fortran_order': False}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	} {
		f.Add([]byte(dict))
		f.Add(header(1, dict))
		f.Add(header(3, dict))
	}
	f.Add(header(2, "{'descr': [('\xe9', '<f8')], 'fortran_order': False, 'shape': (), }"))
	f.Add([]byte("\x93NUMPY\x04\x00\x10\x00{}"))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkRoundTrip(t, b)
		// Random bytes rarely carry a matching length field, so also try
		// them as the dict of a well-formed header, to reach the parser.
		if len(b) <= 0xffff {
			checkRoundTrip(t, header(1, string(b)))
			checkRoundTrip(t, header(3, string(b)))
		}
	})
}

// checkRoundTrip checks that Read of b does not panic and, if it succeeds,
// that its Header survives Encode and Read.
func checkRoundTrip(t *testing.T, b []byte) {
	h, n, err := Read(bytes.NewReader(b))
	if err != nil {
		return
	}
	if n <= 0 || n > len(b) {
		t.Fatalf("Read = %d with %d bytes of input", n, len(b))
	}
	enc, err := h.Encode(64)
	if errors.Is(err, errTooLong) {
		return // escaping can make a near-limit header longer
	}
	if err != nil {
		t.Fatalf("Encode(Read(%q)): %v", b, err)
	}
	h2, n2, err := Read(bytes.NewReader(enc))
	if err != nil || n2 != len(enc) {
		t.Fatalf("Read(Encode(Read(%q))) = %d, %v; encoded %q", b, n2, err, enc)
	}
	if !reflect.DeepEqual(h, h2) {
		t.Fatalf("round trip of %q:\n%#v\nbecame\n%#v", b, h, h2)
	}
}
