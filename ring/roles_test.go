package ring_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// readRole NAME N DELAY: read frames until the stream ends, holding each
// for DELAY (a slow reader) before checking every element and releasing
// it. It prints "received missed bad torn disorder", then a bitmap of the
// N sequence numbers it received.
func readRole(args []string) int {
	n, _ := strconv.Atoi(args[1])
	delay, _ := time.ParseDuration(args[2])
	r, rd, err := subscribe(args[0])
	if err != nil {
		return fail("read", err)
	}
	defer r.Close()
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seen := make([]byte, (n+7)/8)
	var recv, bad, torn, disorder uint64
	for prev := int64(-1); ; {
		f, err := rd.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail("read", err)
		}
		for end := time.Now().Add(delay); time.Now().Before(end); {
		}
		if !intact(f.Bytes(), f.Seq) || f.Tag != f.Seq || f.Seq >= uint64(n) {
			bad++
		} else {
			seen[f.Seq/8] |= 1 << (f.Seq % 8)
		}
		if int64(f.Seq) <= prev {
			disorder++
		}
		prev, recv = int64(f.Seq), recv+1
		if rd.Release() != nil {
			torn++
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, recv, rd.Missed(), bad, torn, disorder)
	w.Write(seen)
	return fail("read", w.Flush())
}

// holdRole NAME: subscribe ("ready"), take one frame and say "held SEQ",
// then never release it on its own. Each "check" on standard input
// reports whether the frame is intact, releases it, and reads the next
// one; standard input's end closes the reader.
func holdRole(args []string) int {
	r, rd, err := subscribe(args[0])
	if err != nil {
		return fail("hold", err)
	}
	defer r.Close()
	defer rd.Close()
	fmt.Println("ready")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := rd.Next(ctx)
	if err != nil {
		return fail("hold", err)
	}
	fmt.Println("held", f.Seq)
	for in := bufio.NewScanner(os.Stdin); in.Scan(); {
		fmt.Println("intact", intact(f.Bytes(), f.Seq), f.Tag == f.Seq)
		fmt.Println("release", rd.Release())
		if f, err = rd.Next(ctx); err != nil {
			return fail("hold", err)
		}
		fmt.Println("next", f.Seq, rd.Missed())
	}
	return 0
}

func subscribe(name string) (*ring.Ring, *ring.Reader, error) {
	r, err := ring.Open(name)
	if err != nil {
		return nil, nil, err
	}
	rd, err := r.Reader()
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, rd, nil
}

func fail(role string, err error) int {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// stdinClosed returns a flag that turns true when standard input ends.
func stdinClosed() *atomic.Bool {
	var done atomic.Bool
	go func() { io.Copy(io.Discard, os.Stdin); done.Store(true) }()
	return &done
}
