package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

// streamRing streams s through a broadcast ring, under the block policy,
// to a Go consumer process and a Python one (or a second Go one).
func streamRing(ctx context.Context, d *session, s StreamSpec) (StreamRun, error) {
	name := fmt.Sprintf("ndshm-demo-ring-%d", os.Getpid())
	cons := ringConsumers(ctx, d, name)
	start := time.Now()
	r, err := ring.Create(name, ring.Config{DType: ndshm.Uint8, Frame: s.Frame, Slots: s.Slots,
		Mode: ring.Broadcast, Policy: ring.Backpressure, Readers: len(cons)})
	if err != nil {
		return StreamRun{}, err
	}
	defer r.Close() // owned: unlinks the name, on errors and interrupts too
	ctx, stop, err := startConsumers(ctx, cons)
	if err != nil {
		return StreamRun{}, err
	}
	defer stop()
	w, err := r.Writer()
	if err != nil {
		return StreamRun{}, err
	}
	defer w.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = r.WaitReaders(wctx, len(cons))
	cancel()
	if err != nil {
		return StreamRun{}, fmt.Errorf("waiting for the consumers: %w", context.Cause(wctx))
	}
	d.step("   ring %s, %d slots of %s: %s and %s consumers subscribed", name, s.Slots,
		human.Bytes(int64(r.FrameBytes())), cons[0].lang(), cons[1].lang())(time.Since(start))
	p, _ := stream.NewPattern(ndshm.Uint8)
	run, err := pace(ctx, s, func(i int) error {
		f, err := w.Loan(ctx)
		if err != nil {
			return err
		}
		p.Fill(f.Bytes(), uint64(i))
		return w.Publish(uint64(i))
	})
	if err != nil {
		return run, err
	}
	w.Close() // the consumers' end of stream
	run.Channel, run.Writer = "ndshm ring", "writer, in place"
	if run.Consumers, err = collect(cons); err != nil {
		return run, err
	}
	d.step("   ring: published %d frames, in place; both consumers read and checked every one", run.Sent)(run.Took)
	return run, nil
}

// ringConsumers are ndshm ring recv --verify in a process of its own and
// Python's ring-recv --verify, or, if Python cannot, a second Go one.
func ringConsumers(ctx context.Context, d *session, name string) []*consumer {
	second, why := pyConsumer(ctx, name)
	if second == nil {
		fmt.Fprintf(d.out, "   (no Python consumer: %v; a second Go process reads instead)\n", why)
		second = goConsumer("Go consumer 2 (ndshm ring recv)", name)
	}
	return []*consumer{goConsumer("Go consumer (ndshm ring recv)", name), second}
}
