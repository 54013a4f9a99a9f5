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
	go consume(rd, done)

	w, err := r.Writer()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		f, err := w.Loan(ctx) // waits while the reader holds every slot
		if err != nil {
			log.Fatal(err)
		}
		img, err := ring.View[float32](f) // this frame, 2x3, in place
		if err != nil {
			log.Fatal(err)
		}
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

func consume(rd *ring.Reader, done chan<- struct{}) {
	defer close(done)
	defer rd.Close()
	for {
		f, err := rd.Next(context.Background())
		if err == io.EOF {
			fmt.Println("end of stream")
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		img, err := ring.View[float32](f)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("frame %d tag %d: %v\n", f.Seq, f.Tag, []float32{img.At(1, 0), img.At(1, 1), img.At(1, 2)})
		rd.Release() // the writer may reuse the slot now
	}
}

// A frame as a typed array in place, on the writer's side and the
// reader's, with no slot arithmetic: valid until Publish and Release.
func ExampleView() {
	r, err := ring.CreateAnon(ring.Config{DType: ndshm.Int32, Frame: []int{2, 2}, Slots: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rd, err := r.Reader() // before the writer publishes: Broadcast
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()
	w, err := r.Writer()
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()

	f, err := w.Loan(ctx)
	if err != nil {
		log.Fatal(err)
	}
	out, err := ring.View[int32](f) // (2, 2), aliasing the slot
	if err != nil {
		log.Fatal(err)
	}
	out.Set(7, 1, 0)
	w.Publish(0)

	g, err := rd.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	in, err := ring.View[int32](g)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Shape(), in.At(1, 0))
	rd.Release()
	// Output: [2 2] 7
}
