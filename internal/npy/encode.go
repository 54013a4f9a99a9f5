package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// errTooLong reports a header that would exceed MaxHeaderLen, which Read
// would refuse.
var errTooLong = errors.New("npy: header too long")

// Encode returns the complete header (magic, version, length, dict,
// padding, '\n') such that len(result) is a multiple of align, which must
// be a positive multiple of 64; Encode panics otherwise, as that is a
// programmer bug.
//
// Like NumPy, it uses version 1.0 when the padded dict fits in 65535
// bytes, else 2.0, and 3.0 if the dict is not representable in latin-1.
// It returns an error for headers that Read would reject, such as
// negative dimensions, more than MaxDims dimensions or an empty Type with
// no Fields.
func (h Header) Encode(align int) ([]byte, error) {
	if align <= 0 || align%64 != 0 {
		panic(fmt.Sprintf("npy: Encode: align %d is not a positive multiple of 64", align))
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return wrap(h.appendDict(nil), align)
}

// appendDict appends the dict exactly as NumPy's _write_array_header
// formats it: sorted keys, each followed by ", ".
func (h Header) appendDict(b []byte) []byte {
	b = append(b, "{'descr': "...)
	b = h.Descr.appendLiteral(b)
	if h.Fortran {
		b = append(b, ", 'fortran_order': True, 'shape': "...)
	} else {
		b = append(b, ", 'fortran_order': False, 'shape': "...)
	}
	b = appendTuple(b, h.Shape)
	return append(b, ", }"...)
}

// wrap prefixes dict with the magic, version and length, and pads it.
func wrap(dict []byte, align int) ([]byte, error) {
	major := byte(1)
	text, ok := toLatin1(dict)
	if !ok {
		major, text = 3, dict
	}
	// A huge align pads past MaxHeaderLen whatever the dict; checking it
	// first also keeps the arithmetic below from overflowing.
	if len(text) > MaxHeaderLen || align > MaxHeaderLen {
		return nil, fmt.Errorf("%w: %d-byte dict aligned to %d", errTooLong, len(text), align)
	}
	prefix := 12
	if major == 1 {
		prefix = 10
		if padded(prefix, len(text), align)-prefix > 0xffff {
			major, prefix = 2, 12
		}
	}
	total := padded(prefix, len(text), align)
	if total-prefix > MaxHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes", errTooLong, total-prefix)
	}
	b := make([]byte, total)
	copy(b, magic)
	b[6] = major
	if prefix == 10 {
		binary.LittleEndian.PutUint16(b[8:], uint16(total-prefix))
	} else {
		binary.LittleEndian.PutUint32(b[8:], uint32(total-prefix))
	}
	n := copy(b[prefix:], text)
	for i := prefix + n; i < total-1; i++ {
		b[i] = ' '
	}
	b[total-1] = '\n'
	return b, nil
}

// padded returns the total header length for a dict of n bytes: prefix,
// dict and the final '\n', rounded up to a multiple of align.
func padded(prefix, n, align int) int {
	return (prefix + n + 1 + align - 1) / align * align
}

// toLatin1 converts UTF-8 text to latin-1, reporting false if some rune
// is above U+00FF.
func toLatin1(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
		i += size
	}
	return out, true
}
