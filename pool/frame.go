package pool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ndshm/ndshm"
)

// Frames on the control channel (doc.go has the byte-by-byte layout).
const (
	version = 1

	typeHello  = 'H'
	typeAttach = 'A'
	typeDetach = 'D'
	typeTask   = 'T'
	typeResult = 'R'

	helloSize  = 8
	detachSize = 8
	attachHead = 8
	taskSize   = 96
	resultHead = 64

	maxBlockName = 255
	maxOpName    = 32
	maxParams    = 4
	maxErrText   = 4096
	maxFrame     = resultHead + 8*MaxBins + maxErrText
)

// MaxBins is the most bins a histogram may have: its counts must fit in
// one result frame.
const MaxBins = 4096

var le = binary.LittleEndian

// A task asks a worker to run one op over rows [lo, hi) of a block.
type task struct {
	seq      uint32
	src, dst uint32 // block ids; dst 0 means in place
	lo, hi   int64
	op       string
	n        int // number of params
	params   [maxParams]float64
}

func (t *task) paramSlice() Params { return Params(t.params[:t.n:t.n]) }

func (t *task) encode() [taskSize]byte {
	var b [taskSize]byte
	b[0], b[1], b[2], b[3] = version, typeTask, byte(t.n), byte(len(t.op))
	le.PutUint32(b[4:], t.seq)
	le.PutUint32(b[8:], t.src)
	le.PutUint32(b[12:], t.dst)
	le.PutUint64(b[16:], uint64(t.lo))
	le.PutUint64(b[24:], uint64(t.hi))
	for i, v := range t.params {
		le.PutUint64(b[32+8*i:], math.Float64bits(v))
	}
	copy(b[64:], t.op)
	return b
}

func decodeTask(b []byte) (task, error) {
	if err := checkHead(b, typeTask, taskSize, taskSize); err != nil {
		return task{}, err
	}
	t := task{n: int(b[2]), seq: le.Uint32(b[4:]), src: le.Uint32(b[8:]), dst: le.Uint32(b[12:]),
		lo: int64(le.Uint64(b[16:])), hi: int64(le.Uint64(b[24:]))}
	nameLen := int(b[3])
	if t.n > maxParams || nameLen == 0 || nameLen > maxOpName {
		return task{}, fmt.Errorf("%w: task with %d params and a %d-byte op name", errFrame, t.n, nameLen)
	}
	for i := range t.params {
		t.params[i] = math.Float64frombits(le.Uint64(b[32+8*i:]))
		if i >= t.n && le.Uint64(b[32+8*i:]) != 0 {
			return task{}, fmt.Errorf("%w: task with %d params and parameter %d not zero", errFrame, t.n, i+1)
		}
	}
	t.op = string(b[64 : 64+nameLen])
	for _, c := range b[64+nameLen : taskSize] {
		if c != 0 {
			return task{}, fmt.Errorf("%w: op name not zero-padded", errFrame)
		}
	}
	return t, nil
}

// errFrame marks a frame that breaks the protocol.
var errFrame = errors.New("malformed frame")

// checkHead checks a frame's version, type and length bounds.
func checkHead(b []byte, typ byte, minLen, maxLen int) error {
	switch {
	case len(b) < 2:
		return fmt.Errorf("%w: %d bytes", errFrame, len(b))
	case b[0] != version:
		return fmt.Errorf("%w: version %d, want %d", errFrame, b[0], version)
	case b[1] != typ:
		return fmt.Errorf("%w: type %q, want %q", errFrame, b[1], typ)
	case len(b) < minLen || len(b) > maxLen:
		return fmt.Errorf("%w: %q frame of %d bytes", errFrame, typ, len(b))
	}
	return nil
}

// hello is the first frame a worker sends: it speaks this version, and
// its pid.
func encodeHello(pid int) [helloSize]byte {
	var b [helloSize]byte
	b[0], b[1] = version, typeHello
	le.PutUint32(b[4:], uint32(pid))
	return b
}

func decodeHello(b []byte) (pid int, err error) {
	if err := checkHead(b, typeHello, helloSize, helloSize); err != nil {
		return 0, err
	}
	if pid = int(le.Uint32(b[4:])); pid == 0 || le.Uint16(b[2:]) != 0 {
		return 0, fmt.Errorf("%w: hello from pid %d, reserved bytes % x", errFrame, pid, b[2:4])
	}
	return pid, nil
}

// A result is a worker's answer to the task with the same seq: the op's
// statistics, or an error.
type result struct {
	seq   uint32
	stats Stats
	err   string // "" for success
}

func (r *result) encode() []byte {
	errText := clipText(r.err, maxErrText)
	b := make([]byte, resultHead+8*len(r.stats.Hist)+len(errText))
	b[0], b[1] = version, typeResult
	if r.err != "" {
		b[2] = 1
	}
	s := r.stats
	le.PutUint32(b[4:], r.seq)
	le.PutUint64(b[8:], uint64(s.Count))
	le.PutUint64(b[16:], math.Float64bits(s.Sum))
	le.PutUint64(b[24:], math.Float64bits(s.Min))
	le.PutUint64(b[32:], math.Float64bits(s.Max))
	le.PutUint64(b[40:], uint64(s.Elapsed))
	le.PutUint32(b[48:], uint32(len(s.Hist)))
	le.PutUint32(b[52:], uint32(len(errText)))
	for i, c := range s.Hist {
		le.PutUint64(b[resultHead+8*i:], c)
	}
	copy(b[resultHead+8*len(s.Hist):], errText)
	return b
}

// decodeResult checks every field a worker could get wrong: nothing it
// sends is trusted beyond what is checked here.
func decodeResult(b []byte) (result, error) {
	if err := checkHead(b, typeResult, resultHead, maxFrame); err != nil {
		return result{}, err
	}
	status, nbins, nerr := b[2], int(le.Uint32(b[48:])), int(le.Uint32(b[52:]))
	switch {
	case status > 1 || b[3] != 0 || le.Uint64(b[56:]) != 0:
		return result{}, fmt.Errorf("%w: result status %d, reserved bytes not zero", errFrame, status)
	case nbins > MaxBins || nerr > maxErrText || len(b) != resultHead+8*nbins+nerr:
		return result{}, fmt.Errorf("%w: %d-byte result with %d bins and a %d-byte error", errFrame, len(b), nbins, nerr)
	case (status == 1) != (nerr > 0):
		return result{}, fmt.Errorf("%w: result status %d with a %d-byte error", errFrame, status, nerr)
	}
	r := result{seq: le.Uint32(b[4:])}
	count, elapsed := le.Uint64(b[8:]), int64(le.Uint64(b[40:]))
	if count > math.MaxInt64 || elapsed < 0 {
		return result{}, fmt.Errorf("%w: count %d, elapsed %d ns", errFrame, count, elapsed)
	}
	r.stats = Stats{Count: int64(count), Elapsed: time.Duration(elapsed),
		Sum: math.Float64frombits(le.Uint64(b[16:])),
		Min: math.Float64frombits(le.Uint64(b[24:])),
		Max: math.Float64frombits(le.Uint64(b[32:]))}
	if nbins > 0 {
		r.stats.Hist = make([]uint64, nbins)
		for i := range r.stats.Hist {
			r.stats.Hist[i] = le.Uint64(b[resultHead+8*i:])
		}
	}
	r.err = clipText(string(b[resultHead+8*nbins:]), maxErrText)
	return r, nil
}

// clipText returns s as valid UTF-8 of at most n bytes, cut at a rune boundary.
func clipText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// An attach frame hands a worker a block, as the descriptor that comes
// with it, under an id that later tasks use.
func encodeAttach(id uint32, name string) []byte {
	if len(name) > maxBlockName {
		name = "" // only informative
	}
	b := make([]byte, attachHead+len(name))
	b[0], b[1] = version, typeAttach
	le.PutUint16(b[2:], uint16(len(name)))
	le.PutUint32(b[4:], id)
	copy(b[attachHead:], name)
	return b
}

func decodeAttach(b []byte) (id uint32, name string, err error) {
	if err := checkHead(b, typeAttach, attachHead, attachHead+maxBlockName); err != nil {
		return 0, "", err
	}
	id, n := le.Uint32(b[4:]), int(le.Uint16(b[2:]))
	if id == 0 || len(b) != attachHead+n {
		return 0, "", fmt.Errorf("%w: attach of block %d with a %d-byte name in %d bytes", errFrame, id, n, len(b))
	}
	return id, string(b[attachHead:]), nil
}

// A detach frame tells a worker to unmap a block it was handed.
func encodeDetach(id uint32) [detachSize]byte {
	var b [detachSize]byte
	b[0], b[1] = version, typeDetach
	le.PutUint32(b[4:], id)
	return b
}

func decodeDetach(b []byte) (uint32, error) {
	if err := checkHead(b, typeDetach, detachSize, detachSize); err != nil {
		return 0, err
	}
	if id := le.Uint32(b[4:]); id != 0 && le.Uint16(b[2:]) == 0 {
		return id, nil
	}
	return 0, fmt.Errorf("%w: detach of block %d, reserved bytes % x", errFrame, le.Uint32(b[4:]), b[2:4])
}

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
		return 0, "", s, fmt.Errorf("%w: raw attach: %w", errFrame, err)
	}
	return id, string(b[off+descrLen:]), s, nil
}
