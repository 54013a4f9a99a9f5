package ring

import "time"

// A Frame is one slot's frame as a Writer loaned it or a Reader received
// it. Its bytes alias the ring: a writer's are its own until Publish, a
// reader's stay valid until Release, the next call to Next, or Close.
// For a typed frame, index a view of the ring's block by Slot:
//
//	slots, _ := ndshm.View[float32](r.Block())
//	img := slots.Index(f.Slot)
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
}

// Bytes returns the frame's data in the ring; see Frame for how long it
// stays valid.
func (f Frame) Bytes() []byte { return f.data }
