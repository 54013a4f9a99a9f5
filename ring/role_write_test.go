package ring_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// writeRole NAME COUNT END: become the ring's writer ("writer HEAD"),
// publish COUNT frames (-1: until standard input ends), then END:
//
//	close  close the writer ("closed") and exit
//	loan   loan one more frame, scribble on half of it, say "loaned SEQ"
//	       and wait to be killed (or for standard input to end)
//	wait   say "done" and wait for standard input to end, then close
func writeRole(args []string) int {
	count, _ := strconv.Atoi(args[1])
	r, err := ring.Open(args[0])
	if err != nil {
		return fail("write", err)
	}
	defer r.Close()
	w, err := r.Writer()
	if err != nil {
		return fail("write", err)
	}
	defer w.Close()
	fmt.Println("writer", r.Stat().Head)
	stop := stdinClosed()
	for i := 0; i != count && !stop.Load(); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		f, err := w.Loan(ctx)
		cancel()
		if err != nil {
			return fail("write", err)
		}
		fill(f.Bytes(), f.Seq)
		w.Publish(f.Seq)
	}
	switch args[2] {
	case "close":
		err := w.Close()
		fmt.Println("closed")
		return fail("write", err)
	case "loan":
		f, err := w.Loan(context.Background())
		if err != nil {
			return fail("write", err)
		}
		fill(f.Bytes()[:len(f.Bytes())/2], 1<<40)
		fmt.Println("loaned", f.Seq)
	case "wait":
		fmt.Println("done")
	}
	for !stop.Load() {
		time.Sleep(time.Millisecond)
	}
	return 0
}
