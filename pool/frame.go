package pool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
