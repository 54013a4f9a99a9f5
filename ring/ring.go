package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

var le = binary.LittleEndian

// A Mode says who sees a frame.
type Mode uint32

const (
	// Broadcast gives every frame to every reader subscribed when it
	// was published.
	Broadcast Mode = 0
	// Queue gives each frame to exactly one of the readers.
	Queue Mode = 1
)

func (m Mode) String() string { return modes[min(m, 1)] }

var modes = []string{"broadcast", "queue"}

// A Policy says what the writer does when every slot is in use.
type Policy uint32

const (
	// Backpressure makes the writer wait until readers release the
	// oldest frame: nothing lost. Its name as text (String, flags,
	// JSON, Python) is "block".
	Backpressure Policy = 0
	// Overwrite makes the writer reuse the oldest slot that no reader
	// holds at that moment: latest-only, for live feeds. Readers that
	// fall behind skip frames and count them as missed.
	Overwrite Policy = 1
)

func (p Policy) String() string { return policies[min(p, 1)] }

var policies = []string{"block", "overwrite"}

// MarshalText and UnmarshalText let a Mode or Policy be a flag
// (flag.TextVar) or a JSON string by name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m *Mode) UnmarshalText(b []byte) error {
	return parseName(b, m, modes, "mode")
}

func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p *Policy) UnmarshalText(b []byte) error {
	return parseName(b, p, policies, "policy")
}

func parseName[T ~uint32](b []byte, v *T, names []string, what string) error {
	for i, n := range names {
		if string(b) == n {
			*v = T(i)
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q (want %s or %s)", what, b, names[0], names[1])
}

// Config describes a new ring.
type Config struct {
	DType   ndshm.DType
	Frame   []int // the shape of one frame; the ring's array is (Slots, Frame...)
	Slots   int   // frames in flight, 1 to MaxSlots
	Mode    Mode
	Policy  Policy
	Readers int // the most readers subscribed at once, 1 to MaxReaders; 0 means 8
}

// ErrTorn reports that a frame was overwritten while its reader held it,
// which only a peer that breaks the protocol (or was taken for dead)
// can cause: the data read from it may mix two frames. Reader.Release,
// or else the Next after the frame, returns an error wrapping it (Python
// raises TornFrame there); the reader can go on.
var ErrTorn = errors.New("frame overwritten while held")

// A Ring is this process's handle on a ring: a block whose array is the
// slots, (slots, *frame), and whose footer holds the cursors. Get a
// Writer or Readers from it. It is safe for concurrent use; Close it
// after its Writer and Readers.
type Ring struct {
	b    *ndshm.Block
	c    ctl
	cfg  config
	data []byte // every slot
	fd   int    // the block, reopened by each Writer and Reader for its locks
	once sync.Once
}

// Create makes a new named ring, all of its slots allocated and faulted
// in now (a full /dev/shm fails here, never later). Like ndshm.Create
// it fails with fs.ErrExist if the name is taken, and the ring lives
// until Close unless opts include ndshm.Persistent.
func Create(name string, c Config, opts ...ndshm.Option) (*Ring, error) {
	s, opts, err := c.options(opts)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: name, Err: err}
	}
	b, err := ndshm.Create(name, s, opts...)
	if err != nil {
		return nil, err
	}
	return attach(b)
}

// CreateAnon makes an anonymous ring, a sealed memfd like
// ndshm.CreateAnon's: hand its block's File to the processes that share
// it, which open it with ndshm.FromFile and OpenBlock.
func CreateAnon(c Config, opts ...ndshm.Option) (*Ring, error) {
	s, opts, err := c.options(opts)
	if err != nil {
		return nil, fmt.Errorf("ring: create: %w", err)
	}
	b, err := ndshm.CreateAnon(s, opts...)
	if err != nil {
		return nil, err
	}
	return attach(b)
}

// options returns the ring's array spec and opts plus the ones that lay
// the control words out and write the config before anyone can see it.
func (c Config) options(opts []ndshm.Option) (ndshm.Spec, []ndshm.Option, error) {
	s, g, err := c.spec()
	if err != nil {
		return s, nil, err
	}
	layout := block.Option(block.Layout{Kind: block.Ring, Control: controlSize(g.slots, g.readers)}).(ndshm.Option)
	return s, append(slices.Clip(opts), layout,
		ndshm.Init(func(b *ndshm.Block) error { g.encode(block.Of(b).Control()); return nil })), nil
}

// Open attaches to an existing ring, checking that the block is a ring
// and that its control words describe its array, and faults its slots
// into this process's page tables so that no frame pays for that. Like
// ndshm.Open, it refuses a ring another user owns unless opts include
// ndshm.AllowForeign.
func Open(name string, opts ...ndshm.Option) (*Ring, error) {
	b, err := ndshm.Open(name, opts...)
	if err != nil {
		return nil, err
	}
	sys.Populate(b.Bytes())
	return attach(b)
}

// OpenBlock makes a ring of a block this process has open, such as an
// anonymous ring received as a descriptor. The Ring takes b over:
// closing the Ring closes b.
func OpenBlock(b *ndshm.Block) (*Ring, error) { return attach(b) }

func attach(b *ndshm.Block) (*Ring, error) {
	r, err := attachBlock(b)
	if err != nil {
		b.Close()
		return nil, &os.PathError{Op: "open", Path: b.Name(), Err: err}
	}
	return r, nil
}

func attachBlock(b *ndshm.Block) (*Ring, error) {
	bf := block.Of(b)
	if bf.Kind() != block.Ring {
		return nil, fmt.Errorf("%w: a %v block, not a ring", ndshm.ErrFormat, ndshm.BlockKind(bf.Kind()))
	}
	g, err := decodeConfig(b)
	if err != nil {
		return nil, err
	}
	fd, err := bf.Reopen()
	if err != nil {
		return nil, err
	}
	return &Ring{b: b, cfg: g, fd: fd, data: b.Bytes(),
		c: ctl{mem: bf.Control(), slots: g.slots, readers: g.readers}}, nil
}

// ownFD opens the ring anew: OFD locks belong to an open file
// description, so every writer and reader needs its own to be told apart
// from the rest of this process.
// ownFD is a Reader's or Writer's own descriptor. Both write to the
// ring's control words, so a ring opened with ndshm.ReadOnly has neither:
// its mapping is read-only and a write there would fault.
func (r *Ring) ownFD() (int, error) {
	if block.Of(r.b).ReadOnly() {
		return -1, fmt.Errorf("ring opened read-only: readers and writers write to its control words: %w", fs.ErrPermission)
	}
	return sys.Reopen(r.fd)
}

func (c Config) spec() (ndshm.Spec, config, error) {
	g := config{mode: c.Mode, policy: c.Policy, slots: c.Slots, readers: c.Readers}
	if g.readers == 0 {
		g.readers = 8
	}
	switch {
	case c.Mode > Queue || c.Policy > Overwrite:
		return ndshm.Spec{}, g, fmt.Errorf("unknown mode %d or policy %d", c.Mode, c.Policy)
	case g.slots < 1 || g.slots > MaxSlots:
		return ndshm.Spec{}, g, fmt.Errorf("%d slots, want 1 to %d", c.Slots, MaxSlots)
	case g.readers < 1 || g.readers > MaxReaders:
		return ndshm.Spec{}, g, fmt.Errorf("%d readers, want 1 to %d", c.Readers, MaxReaders)
	}
	s := ndshm.Spec{DType: c.DType, Shape: append([]int{c.Slots}, c.Frame...)}
	g.frame = s.Size() / g.slots
	return s, g, nil
}

// Block returns the ring's block: its array is every slot, (slots,
// *frame), and ndshm.View of it indexed by a Frame's Slot is that frame
// (as View gives it). It is owned by the Ring.
func (r *Ring) Block() *ndshm.Block { return r.b }

// Slots returns the number of slots; Mode and Policy what the ring was
// created with; FrameBytes the size of one frame.
func (r *Ring) Slots() int      { return r.cfg.slots }
func (r *Ring) Mode() Mode      { return r.cfg.mode }
func (r *Ring) Policy() Policy  { return r.cfg.policy }
func (r *Ring) FrameBytes() int { return r.cfg.frame }
func (r *Ring) Name() string    { return r.b.Name() }

// Close closes this process's handle and the block (unlinking it if this
// handle created it). Close the ring's Writer and Readers first.
func (r *Ring) Close() error {
	r.once.Do(func() { sys.Close(r.fd) })
	return r.b.Close()
}

// frame returns slot k's bytes.
func (r *Ring) frame(k int) []byte {
	n := r.cfg.frame
	return r.data[k*n : (k+1)*n : (k+1)*n]
}

// A Frame is one slot's frame as a Writer loaned it or a Reader received
// it. Its bytes alias the ring: a writer's are its own until Publish, a
// reader's stay valid until Release, the next call to Next, or Close.
// View returns it as a typed array.
type Frame struct {
	// Seq numbers the frames a ring ever carried, 0, 1, 2, … across
	// all streams: it orders frames and shows gaps, but is not a
	// frame's position in its stream (Index is).
	Seq uint64
	// Stream numbers the writers the ring has had, from 1 (wrapping
	// after 2^30-1 back to 1): each Writer starts a new stream.
	Stream uint32
	// Index is the frame's position in its stream, from 0.
	Index uint64
	Slot  int       // index along the ring's slot axis
	Tag   uint64    // the writer's, from Publish; the ring never reads it
	Time  time.Time // when it was published
	data  []byte
	r     *Ring
}

// Bytes returns the frame's data in the ring; see Frame for how long it
// stays valid.
func (f Frame) Bytes() []byte { return f.data }

// View returns frame f as a typed array of the ring's frame shape,
// aliasing the ring: writing a loaned frame through it fills the frame in
// place. It is valid exactly as long as f's bytes are: a writer's until
// Publish, a reader's until Release, the next Next or Close. T must match
// the ring's dtype, as for ndshm.View, which View is of the ring's block
// indexed by f.Slot. It allocates nothing and reads no data, except that
// for a bool ring it checks that each byte of this frame (not of every
// slot) is 0 or 1 (view it as uint8 to skip that). A Frame that came from
// no Writer or Reader is os.ErrInvalid.
func View[T any](f Frame) (ndshm.Array[T], error) {
	if f.r == nil {
		return ndshm.Array[T]{}, fmt.Errorf("ring: view of a zero Frame: %w", os.ErrInvalid)
	}
	if reflect.TypeFor[T]().Kind() != reflect.Bool || f.r.b.DType().Kind() != 'b' {
		slots, err := ndshm.View[T](f.r.b)
		if err != nil {
			return ndshm.Array[T]{}, err
		}
		return slots.Index(f.Slot), nil
	}
	// ndshm.View[bool] would check the bytes of every slot, each frame:
	// check this frame's only, and view it through uint8, whose Array has
	// the same layout.
	slots, err := ndshm.View[uint8](f.r.b)
	if err != nil {
		return ndshm.Array[T]{}, err
	}
	for i, c := range f.data {
		if c > 1 {
			return ndshm.Array[T]{}, fmt.Errorf("%w: byte %d of a bool frame is %d, not 0 or 1", ndshm.ErrDType, i, c)
		}
	}
	a := slots.Index(f.Slot)
	return *(*ndshm.Array[T])(unsafe.Pointer(&a)), nil
}
