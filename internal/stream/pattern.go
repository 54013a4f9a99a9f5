// Package stream is the test stream of ndshm's rings: the pattern ring
// send writes into frame i and ring recv checks, and the count a receiver
// keeps of frames, gaps, duplicates, torn frames and latencies. The demo
// and tests check streams through sockets with the same code.
package stream

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/elem"
)

// A Pattern is ring send's test pattern, which ring recv (and Python's
// ring-recv) checks: every element of frame i is i, stored as the dtype
// stores it. Integers keep i's low bits (i mod 256 for uint8), floats
// hold float(i), complex numbers i+0j, bools i mod 2. Other dtypes
// (bytes, records) have no such pattern.
type Pattern struct {
	item []byte // frame i's element, in the dtype's byte order
	kind byte
	swap bool // big-endian
}

// WholeCheck is the largest frame recv compares in full; see Check.
const WholeCheck = 1 << 20

// NewPattern returns the pattern of dt, or an error if it has none.
func NewPattern(dt ndshm.DType) (*Pattern, error) {
	if dt.Fields() != nil || strings.IndexByte("biufcMm", dt.Kind()) < 0 || dt.Size() == 0 {
		return nil, fmt.Errorf("the test pattern is not defined for dtype %s (use a bool, integer, float or complex dtype)", dt)
	}
	return &Pattern{item: make([]byte, dt.Size()), kind: dt.Kind(), swap: dt.String()[0] == '>'}, nil
}

// set makes p.item frame i's element.
func (p *Pattern) set(i uint64) {
	item := p.item
	switch p.kind {
	case 'b':
		clear(item)
		item[0] = byte(i & 1)
	case 'f':
		elem.PutFloat(item, float64(i))
	case 'c':
		elem.PutFloat(item[:len(item)/2], float64(i))
		elem.PutFloat(item[len(item)/2:], 0)
	default: // i u M m
		elem.PutUint(item, i)
	}
	if p.swap {
		elem.BigEndian(item, p.kind)
	}
}

// Fill writes frame i's pattern into data, a whole number of elements,
// in one pass of memory bandwidth (see elem.Repeat).
func (p *Pattern) Fill(data []byte, i uint64) {
	p.set(i)
	elem.Repeat(context.Background(), data, p.item)
}

// Check reports whether data holds frame i's pattern. A frame of up to
// WholeCheck bytes is compared in full. Of a larger one it compares the
// first and last chunk and 1024 elements spread over the rest, at offsets
// that move from frame to frame. That is enough: a writer fills a slot
// from the front, so a frame overwritten while held differs in its first
// chunk (the overwrite had begun) or everywhere (it had finished), and a
// reader handed the wrong slot differs everywhere. Comparing every byte
// of 100 MiB frames at 30 fps would cost a reader 3 GB/s of memory reads:
// the check, not the ring, would be measured.
func (p *Pattern) Check(data []byte, i uint64) bool {
	p.set(i)
	if len(data) <= WholeCheck {
		return p.checkRun(data)
	}
	size := len(p.item)
	tail := (len(data) - elem.Chunk) / size * size
	if !p.checkRun(data[:elem.Chunk]) || !p.checkRun(data[tail:]) {
		return false
	}
	const samples = 1024
	stride := len(data) / size / samples
	shift := int(i * 7919 % uint64(stride))
	for j := range samples {
		k := (j*stride + shift) * size
		if !bytes.Equal(data[k:k+size], p.item) {
			return false
		}
	}
	return true
}

// checkRun reports whether every element of run is p.item. It compares
// the first element, then each later stretch with the checked prefix, so
// that it needs no buffer and runs at memory speed.
func (p *Pattern) checkRun(run []byte) bool {
	n := len(p.item)
	if len(run) < n {
		return len(run) == 0
	}
	if !bytes.Equal(run[:n], p.item) {
		return false
	}
	for off := n; off < len(run); {
		m := min(n, len(run)-off)
		if !bytes.Equal(run[off:off+m], run[:m]) {
			return false
		}
		off += m
		if n < elem.Chunk {
			n = off // the prefix checked so far doubles, up to a chunk
		}
	}
	return true
}
