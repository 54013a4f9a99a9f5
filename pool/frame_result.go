package pool

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

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
