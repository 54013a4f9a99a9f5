package pool

import (
	"fmt"

	"github.com/ndshm/ndshm"
)

// A raw attach frame hands a worker a block with no ndshm header, such
// as Python's SharedMemory makes, with the array it holds from byte 0:
// nothing in the file says what that is (doc.go has the layout).
const (
	typeAttachRaw = 'B'
	rawHead       = 16
	maxDescr      = 16 // NumPy's dtype.str of any dtype ops run on: "<f8"
	maxDims       = 32 // NumPy 1's limit, and ndshm's
)

func encodeAttachRaw(id uint32, name string, s ndshm.Spec) ([]byte, error) {
	descr := s.DType.String()
	if len(descr) == 0 || len(descr) > maxDescr || len(s.Shape) > maxDims {
		return nil, fmt.Errorf("raw block %q: %v does not fit an attach frame", name, s)
	}
	if len(name) > maxBlockName {
		name = "" // only informative
	}
	b := make([]byte, rawHead, rawHead+8*len(s.Shape)+len(descr)+len(name))
	b[0], b[1] = version, typeAttachRaw
	le.PutUint16(b[2:], uint16(len(name)))
	le.PutUint32(b[4:], id)
	b[8], b[9] = byte(len(descr)), byte(len(s.Shape))
	if s.Fortran {
		b[10] = 1
	}
	for _, d := range s.Shape {
		b = le.AppendUint64(b, uint64(d))
	}
	return append(append(b, descr...), name...), nil
}

// decodeAttachRaw checks every field against the protocol's limits; the
// spec's sizes are checked again where the block is opened, against the
// file.
func decodeAttachRaw(b []byte) (id uint32, name string, s ndshm.Spec, err error) {
	const maxLen = rawHead + 8*maxDims + maxDescr + maxBlockName
	if err := checkHead(b, typeAttachRaw, rawHead, maxLen); err != nil {
		return 0, "", s, err
	}
	id, nameLen, descrLen, ndim := le.Uint32(b[4:]), int(le.Uint16(b[2:])), int(b[8]), int(b[9])
	switch {
	case id == 0 || descrLen == 0 || descrLen > maxDescr || ndim > maxDims || nameLen > maxBlockName:
		return 0, "", s, fmt.Errorf("%w: raw attach of block %d, %d-byte dtype, %d dimensions", errFrame, id, descrLen, ndim)
	case b[10] > 1 || b[11] != 0 || le.Uint32(b[12:]) != 0:
		return 0, "", s, fmt.Errorf("%w: raw attach with order byte %d and reserved bytes not zero", errFrame, b[10])
	case len(b) != rawHead+8*ndim+descrLen+nameLen:
		return 0, "", s, fmt.Errorf("%w: raw attach of %d bytes", errFrame, len(b))
	}
	s.Fortran = b[10] == 1
	s.Shape = make([]int, ndim)
	for i := range s.Shape {
		d := int64(le.Uint64(b[rawHead+8*i:]))
		if d < 0 {
			return 0, "", s, fmt.Errorf("%w: raw attach with dimension %d of %d", errFrame, i, d)
		}
		s.Shape[i] = int(d)
	}
	off := rawHead + 8*ndim
	if s.DType, err = ndshm.ParseDType(string(b[off : off+descrLen])); err != nil {
		return 0, "", s, fmt.Errorf("%w: raw attach: %v", errFrame, err)
	}
	return id, string(b[off+descrLen:]), s, nil
}
