// Package ring is a zero-copy channel of frames between processes: a
// block whose array has a leading slot axis, (slots, *frame), and whose
// footer holds the cursors. A Writer loans a free slot, fills it in
// place and publishes it; Readers receive the slot's frame in place and
// release it. Only sequence numbers and slot numbers move; nothing is
// copied, and nothing is allocated per frame.
//
// # Modes and policies
//
// In Broadcast mode every reader sees every frame published after it
// subscribed, in order; in Queue mode each frame goes to exactly one
// reader. When every slot is in use, the Backpressure policy ("block"
// on the command line and in Python) makes the writer wait (in Broadcast
// mode frames published while no reader is subscribed are dropped, in
// Queue mode they wait for one), and the Overwrite policy makes it reuse the oldest slot no reader holds at
// that moment: readers that fall behind skip frames and count them
// (Reader.Missed, Stat). Readers may subscribe and leave at any time.
//
// # Lifetime and aliasing
//
// A Frame's bytes alias the ring. A writer's loaned frame is its own
// until Publish; a reader's frame stays valid (the writer will not touch
// it) until Release, the reader's next Next, or Close. View gives a
// frame as a typed array with the same lifetime. Every view is invalid
// once the Ring is closed.
//
// # Peers that die
//
// Liveness comes from OFD locks the kernel drops with their holder, not
// from pids: the writer and each reader hold a lock byte of their own. A
// reader killed while holding a frame is noticed by the writer within a
// tick (20 ms) of needing its slot, and its place and frame are
// reclaimed. A writer that dies is reported to waiting readers within a
// tick as an error wrapping io.ErrUnexpectedEOF. Every number read from the ring
// is checked before it is used as an index: a corrupt ring is an
// ndshm.ErrFormat error, never a panic or a hang.
//
// # Streams
//
// A ring is a long-lived channel: it carries one stream per Writer, one
// after another. A writer that closes ends its stream (its readers get
// io.EOF after its last frame); the next Writer starts a new one, and
// the same readers' next Next waits for it. A reader that subscribes
// while a writer lives reads the rest of that writer's stream; one that
// subscribes between streams waits for the next writer (bound the wait
// with a context). Frame.Seq numbers frames over the ring's life, across
// streams: it orders them and shows gaps. Frame.Stream numbers the
// writers from 1, and Frame.Index is the frame's position in its
// stream, from 0; Frame.Tag is whatever the writer put there.
//
// # Waiting
//
// Waiters sleep on shared futex words in the footer (never private ones,
// which another process cannot wake); a publish costs one futex wake
// only when someone sleeps. At most 16 threads of a process sleep in the
// kernel at once, since each pins an OS thread; further waiters poll
// every millisecond. Reader.SetSpin trades a core's polling for latency.
// A Python peer (python/ndshm/ring.py) waits and wakes through the same
// words with ctypes, or polls; docs/FORMAT.md gives the layout.
package ring
