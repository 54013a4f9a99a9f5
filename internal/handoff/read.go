package handoff

import (
	"encoding/binary"
	"fmt"
)

// Read is how much of what it is handed the peer reads.
type Read byte

const (
	Touch Read = 't' // its last byte: what handing over costs before any work
	All   Read = 'a' // every byte, summed: what a consumer that uses the data pays
)

// Reads are both, in the order bench handoff reports them.
var Reads = []Read{Touch, All}

func (r Read) String() string {
	switch r {
	case Touch:
		return "touch"
	case All:
		return "all"
	}
	return fmt.Sprintf("Read(%q)", byte(r))
}

// ParseRead reads "touch" or "all".
func ParseRead(s string) (Read, error) {
	for _, r := range Reads {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("read %q: want touch or all", s)
}

// of reads d as r says: its last byte (0 if d is empty), or the sum of
// its bytes.
func (r Read) of(d []byte) uint64 {
	if r == All {
		return Sum(d)
	}
	if len(d) == 0 {
		return 0
	}
	return uint64(d[len(d)-1])
}

// Sum adds up d's bytes. It reads 32 bytes at a time into two sets of
// 16-bit lanes, so that memory, not the adding, bounds its speed (about
// twice as fast as one word a step, measured on a VM): the sum only
// proves that every byte was read, and the socket's reader runs it too.
func Sum(d []byte) uint64 {
	const lo = 0x00ff00ff00ff00ff
	var total uint64
	for len(d) >= 32 {
		// 64 steps add at most 64×4×255 to a lane: no carry out of it.
		var a, b uint64
		n := min(len(d)/32, 64)
		for i := range n {
			c := d[32*i : 32*i+32 : 32*i+32]
			w0, w1 := binary.LittleEndian.Uint64(c), binary.LittleEndian.Uint64(c[8:])
			w2, w3 := binary.LittleEndian.Uint64(c[16:]), binary.LittleEndian.Uint64(c[24:])
			a += w0&lo + w0>>8&lo + w1&lo + w1>>8&lo
			b += w2&lo + w2>>8&lo + w3&lo + w3>>8&lo
		}
		total += lanes(a) + lanes(b)
		d = d[32*n:]
	}
	for _, c := range d {
		total += uint64(c)
	}
	return total
}

// lanes adds up the four 16-bit lanes of l.
func lanes(l uint64) uint64 { return l&0xffff + l>>16&0xffff + l>>32&0xffff + l>>48 }
