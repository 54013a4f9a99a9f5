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
	Seq  uint64    // 0 for the first frame a ring ever carried, then 1, 2, …
	Slot int       // index along the ring's slot axis
	Tag  uint64    // the writer's, from Publish
	Time time.Time // when it was published
	data []byte
}

// Bytes returns the frame's data in the ring; see Frame for how long it
// stays valid.
func (f Frame) Bytes() []byte { return f.data }
