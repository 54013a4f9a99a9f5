// Package elem reads and writes single elements of NumPy dtypes as bytes,
// and repeats one element through memory: what create --fill, ring send's
// test pattern and stats need that the library does not offer.
package elem

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ndshm/ndshm"
)

// Parse parses s as one element of dt and returns its bytes in dt's
// byte order: bool as true/false/1/0; integers in range (0x and _
// forms too); floats; complex numbers as strconv.ParseComplex reads them,
// with Python's j allowed for i ("1+2i", "(1+2j)"); datetime64 and
// timedelta64 as their integer count or NaT; bytes as a string of at
// most the item size.
func Parse(dt ndshm.DType, s string) ([]byte, error) {
	kind := dt.Kind()
	switch {
	case dt.Fields() != nil || strings.IndexByte("biuMmfcS", kind) < 0:
		return nil, fmt.Errorf("cannot fill dtype %s", dt)
	case kind == 'S' && len(s) > dt.Size():
		return nil, fmt.Errorf("fill value %q is longer than %s's %d bytes", s, dt, dt.Size())
	}
	item := make([]byte, dt.Size())
	if err := putScalar(item, kind, s); err != nil {
		return nil, fmt.Errorf("fill value %q is not a valid %s: %v", s, dt, unwrapNum(err))
	}
	if dt.String()[0] == '>' {
		BigEndian(item, kind)
	}
	return item, nil
}

// BigEndian reverses the little-endian number in item, of NumPy kind
// kind, into big-endian order: a complex is two numbers.
func BigEndian(item []byte, kind byte) {
	n := len(item)
	if kind == 'c' {
		n /= 2
	}
	for i := 0; i < len(item); i += n {
		slices.Reverse(item[i : i+n])
	}
}

// putScalar parses s as a number of the kind and stores it in item,
// little-endian.
func putScalar(item []byte, kind byte, s string) error {
	bits := 8 * len(item)
	switch kind {
	case 'b':
		v, err := strconv.ParseBool(s)
		if v {
			item[0] = 1
		}
		return err
	case 'i', 'M', 'm':
		if s == "NaT" && kind != 'i' {
			PutUint(item, 1<<63) // NumPy's not-a-time, the least int64
			return nil
		}
		v, err := strconv.ParseInt(s, 0, bits)
		PutUint(item, uint64(v))
		return err
	case 'u':
		v, err := strconv.ParseUint(s, 0, bits)
		PutUint(item, v)
		return err
	case 'f':
		v, err := strconv.ParseFloat(s, bits)
		PutFloat(item, v)
		return err
	case 'c':
		v, err := strconv.ParseComplex(strings.ReplaceAll(s, "j", "i"), bits)
		PutFloat(item[:len(item)/2], real(v))
		PutFloat(item[len(item)/2:], imag(v))
		return err
	}
	copy(item, s) // 'S'
	return nil
}

// PutUint stores the low len(b) bytes of v, little-endian.
func PutUint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

// PutFloat stores v as the little-endian float of len(b) bytes.
func PutFloat(b []byte, v float64) {
	switch len(b) {
	case 2:
		binary.LittleEndian.PutUint16(b, HalfFromFloat(v))
	case 4:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
	case 8:
		binary.LittleEndian.PutUint64(b, math.Float64bits(v))
	}
}

// unwrapNum drops strconv's repetition of the input from its errors.
func unwrapNum(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

// Fill sets every element of data, a new block's, to item. A zero item
// needs no work: blocks start zeroed.
func Fill(ctx context.Context, data, item []byte) error {
	if len(item) == 0 || !slices.ContainsFunc(item, func(c byte) bool { return c != 0 }) {
		return nil
	}
	return Repeat(ctx, data, item)
}

// Chunk is how long a run of elements Repeat builds before copying
// it along: small enough to stay in cache.
const Chunk = 64 << 10

// Repeat sets every element of data, a whole number of them, to item. It
// copies within data itself, doubling a run of elements up to a chunk
// and then copying that chunk along, so it costs one pass of memory
// bandwidth and no buffer; ctx is checked between chunks, so that an
// interrupt stops a fill of gigabytes.
func Repeat(ctx context.Context, data, item []byte) error {
	n := copy(data, item)
	for n < len(data) && n < Chunk {
		n += copy(data[n:], data[:n])
	}
	for off := n; ; off += copy(data[off:], data[:n]) {
		if err := ctx.Err(); err != nil || off >= len(data) {
			return err
		}
	}
}
