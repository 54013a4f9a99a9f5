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

// Sum adds up d's bytes. It reads eight at a time into 16-bit lanes, so
// that memory, not the adding, bounds its speed: the sum only proves
// that every byte was read.
func Sum(d []byte) uint64 {
	const lo = 0x00ff00ff00ff00ff
	var total uint64
	for len(d) >= 8 {
		// 128 words add at most 128×2×255 to a lane: no carry out of it.
		var lanes uint64
		n := min(len(d)/8, 128)
		for i := range n {
			w := binary.LittleEndian.Uint64(d[8*i:])
			lanes += w&lo + w>>8&lo
		}
		total += lanes&0xffff + lanes>>16&0xffff + lanes>>32&0xffff + lanes>>48
		d = d[8*n:]
	}
	for _, c := range d {
		total += uint64(c)
	}
	return total
}
