package ring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
)

// The control words, laid out in the block footer's kind-specific area
// (docs/FORMAT.md, "Rings"). Offsets are from the start of that area,
// which is 128 bytes into the footer. Every word that more than one
// process writes sits alone on its 64-byte line, so peers never false-
// share; words one party writes together (a slot's seq, tag and time; a
// reader's cursor and hold) share that party's line.
const (
	line      = 64
	magic     = "NDSHMRNG"
	layoutVer = 2 // 2: streams (the writer word's stream number, a slot's stream and index)

	offConfig  = 0 * line // magic, version, mode, policy, slots, readers, frame bytes
	offHead    = 1 * line // u64 frames published; futex on its low half
	offWaiters = 2 * line // u32 readers asleep on head
	offFreed   = 3 * line // u32 bumped when a slot frees; the writer's futex
	offWWaits  = 4 * line // u32 1 while the writer is asleep on freed
	offWriter  = 5 * line // u64 writer state | stream<<2 | pid<<32
	offQNext   = 6 * line // u64 next frame to claim, queue mode
	offReaders = 7 * line // MaxReaders reader lines, then slot lines, then log lines

	// Within a reader's line (its first byte is its lock byte).
	rState, rNext, rHold, rMissed, rRecv, rAsleep = 0, 8, 16, 24, 32, 40

	// Bits of a reader's state word, below its pid: active (its next
	// gates the writer) from the start of its join, positioned (next is
	// set) at its end.
	stateActive, statePositioned = 1, 2
	// Within a slot's line.
	sSeq, sTag, sTime, sClaim, sStream, sIndex = 0, 8, 16, 24, 32, 40

	busy = 1 << 63 // in a slot's seq: being written

	// MaxSlots and MaxReaders bound a ring; the log packs a slot number
	// into 16 bits and a reader set must stay small enough to scan.
	MaxSlots   = 1<<16 - 1
	MaxReaders = 64
)

// Writer states, the low two bits of the writer word. Bits 2-31 hold
// the number of the stream the last writer started (1, 2, …, wrapping
// after maxStream back to 1; 0 before the first), bits 32-63 its pid:
// one word, so that one load sees a state and the stream it belongs to.
const (
	writerNone   = 0
	writerLive   = 1
	writerClosed = 2

	maxStream = 1<<30 - 1
)

// writerWord splits the writer word into state, stream and pid.
func writerWord(w uint64) (state, stream uint32, pid int) {
	return uint32(w) & 3, uint32(w) >> 2, int(w >> 32)
}

func makeWriterWord(state, stream uint32, pid int) uint64 {
	return uint64(pid)<<32 | uint64(stream)<<2 | uint64(state)
}

// nextStream is the number of the stream after s.
func nextStream(s uint32) uint32 {
	if s >= maxStream {
		return 1
	}
	return s + 1
}

// controlSize is the control area a ring of n slots and m readers needs.
func controlSize(n, m int) int { return offReaders + line*(m+2*n) }

// ctl addresses one ring's control words in memory it does not own: a
// block's Control area, or heap memory in tests.
type ctl struct {
	mem     []byte
	slots   int
	readers int
}

func (c ctl) u64(off int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&c.mem[off]))
}

func (c ctl) u32(off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&c.mem[off]))
}

func (c ctl) head() *atomic.Uint64    { return c.u64(offHead) }
func (c ctl) waiters() *atomic.Uint32 { return c.u32(offWaiters) }
func (c ctl) freed() *atomic.Uint32   { return c.u32(offFreed) }
func (c ctl) wwaits() *atomic.Uint32  { return c.u32(offWWaits) }
func (c ctl) writer() *atomic.Uint64  { return c.u64(offWriter) }
func (c ctl) qnext() *atomic.Uint64   { return c.u64(offQNext) }

func readerOff(i int) int { return offReaders + i*line }

func (c ctl) reader(i, field int) *atomic.Uint64 { return c.u64(readerOff(i) + field) }

func (c ctl) slot(k, field int) *atomic.Uint64 {
	return c.u64(offReaders + (c.readers+k)*line + field)
}

// logEntry holds (seq+1)<<16 | slot for the frame seq, at seq % slots.
func (c ctl) logEntry(seq uint64) *atomic.Uint64 {
	return c.u64(offReaders + (c.readers+c.slots+int(seq%uint64(c.slots)))*line)
}

// futex32 is the low half of a little-endian 64-bit word, for FUTEX_WAIT.
func futex32(w *atomic.Uint64) *uint32 { return (*uint32)(unsafe.Pointer(w)) }

// config is a ring's fixed description, written once before the ring is
// named and checked against the block on every open.
type config struct {
	mode    Mode
	policy  Policy
	slots   int
	readers int
	frame   int // bytes per frame
}

func (g config) encode(b []byte) {
	copy(b, magic)
	le.PutUint32(b[8:], layoutVer)
	le.PutUint32(b[12:], uint32(g.mode))
	le.PutUint32(b[16:], uint32(g.policy))
	le.PutUint32(b[20:], uint32(g.slots))
	le.PutUint32(b[24:], uint32(g.readers))
	le.PutUint64(b[32:], uint64(g.frame))
}

// decodeConfig reads a ring's config and checks it against the block it
// came from, so that no later index computed from it can leave the
// mapping.
func decodeConfig(b *ndshm.Block) (config, error) {
	mem := block.Of(b).Control()
	if len(mem) < line || string(mem[:8]) != magic {
		return config{}, fmt.Errorf("%w: no ring control words", ndshm.ErrFormat)
	}
	if v := le.Uint32(mem[8:]); v != layoutVer {
		return config{}, fmt.Errorf("%w: ring layout version %d, want %d", ndshm.ErrFormat, v, layoutVer)
	}
	g := config{mode: Mode(le.Uint32(mem[12:])), policy: Policy(le.Uint32(mem[16:])),
		slots: int(le.Uint32(mem[20:])), readers: int(le.Uint32(mem[24:]))}
	frame := le.Uint64(mem[32:])
	s := b.Spec()
	switch {
	case g.mode > Queue || g.policy > Overwrite:
		return config{}, fmt.Errorf("%w: ring mode %d, policy %d", ndshm.ErrFormat, g.mode, g.policy)
	case g.slots < 1 || g.slots > MaxSlots || g.readers < 1 || g.readers > MaxReaders:
		return config{}, fmt.Errorf("%w: ring of %d slots, %d readers", ndshm.ErrFormat, g.slots, g.readers)
	case len(s.Shape) == 0 || s.Shape[0] != g.slots || s.Fortran:
		return config{}, fmt.Errorf("%w: ring of %d slots holds a %v array", ndshm.ErrFormat, g.slots, s)
	case frame != uint64(s.Size()/g.slots):
		return config{}, fmt.Errorf("%w: ring frames of %d bytes in a %v array", ndshm.ErrFormat, frame, s)
	case controlSize(g.slots, g.readers) > len(mem):
		return config{}, fmt.Errorf("%w: %d bytes of ring control words, need %d", ndshm.ErrFormat, len(mem), controlSize(g.slots, g.readers))
	}
	g.frame = int(frame)
	return g, nil
}

func word32(w *atomic.Uint32) *uint32 { return (*uint32)(unsafe.Pointer(w)) }

// forgetSleeper takes a dead reader's place out of the sleeper count if
// it died asleep; otherwise every publish would pay a futex wake for it.
// The caller holds the place's lock, so no one else does this at once.
func (c ctl) forgetSleeper(i int) {
	if c.reader(i, rAsleep).Swap(0) != 0 {
		c.waiters().Add(^uint32(0))
	}
}
