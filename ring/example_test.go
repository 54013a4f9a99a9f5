package ring_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// A camera process writes 2x3 float32 frames into a ring; a consumer
// (here a goroutine, usually another process or NumPy) reads each in
// place. Only sequence and slot numbers move between them.
func Example() {
	name := fmt.Sprintf("ndshm-example-ring-%d", os.Getpid())
	r, err := ring.Create(name, ring.Config{DType: ndshm.Float32, Frame: []int{2, 3}, Slots: 4})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close() // owned: unlinks the name

	// The consumer subscribes first: a broadcast reader sees the frames
	// published after it joined.
	c, err := ring.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	rd, err := c.Reader()
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	go consume(rd, c, done)

	w, err := r.Writer()
	if err != nil {
		log.Fatal(err)
	}
	slots, _ := ndshm.View[float32](r.Block()) // every slot: (4, 2, 3)
	ctx := context.Background()
	for i := range 3 {
		f, err := w.Loan(ctx) // waits while the reader holds every slot
		if err != nil {
			log.Fatal(err)
		}
		img := slots.Index(f.Slot) // this frame, 2x3, in place
		for y := range 2 {
			for x := range 3 {
				img.Set(float32(10*i+x), y, x)
			}
		}
		w.Publish(uint64(i)) // the tag travels with the frame
	}
	w.Close() // end of stream
	<-done
	// Output:
	// frame 0 tag 0: [0 1 2]
	// frame 1 tag 1: [10 11 12]
	// frame 2 tag 2: [20 21 22]
	// end of stream
}

func consume(rd *ring.Reader, c *ring.Ring, done chan<- struct{}) {
	defer close(done)
	defer rd.Close()
	slots, _ := ndshm.View[float32](c.Block())
	for {
		f, err := rd.Next(context.Background())
		if err == io.EOF {
			fmt.Println("end of stream")
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		img := slots.Index(f.Slot)
		fmt.Printf("frame %d tag %d: %v\n", f.Seq, f.Tag, []float32{img.At(1, 0), img.At(1, 1), img.At(1, 2)})
		rd.Release() // the writer may reuse the slot now
	}
}
