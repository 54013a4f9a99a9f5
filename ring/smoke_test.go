package ring_test

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

func TestSmoke(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		for _, pol := range []ring.Policy{ring.Block, ring.Overwrite} {
			t.Run(mode.String()+"/"+pol.String(), func(t *testing.T) {
				r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint64, Frame: []int{4}, Slots: 4, Mode: mode, Policy: pol})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				const n = 20000
				var wg sync.WaitGroup
				got := make([][]uint64, 2)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				for j := range 2 {
					rd, err := r.Reader()
					if err != nil {
						t.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer rd.Close()
						for {
							f, err := rd.Next(ctx)
							if err == io.EOF {
								return
							}
							if err != nil {
								t.Error(err)
								return
							}
							v := binary.LittleEndian.Uint64(f.Bytes())
							if v != f.Seq || f.Tag != f.Seq*3 {
								t.Errorf("frame %d holds %d tag %d", f.Seq, v, f.Tag)
							}
							got[j] = append(got[j], f.Seq)
							if err := rd.Release(); err != nil {
								t.Error(err)
							}
						}
					}()
				}
				w, err := r.Writer()
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					f, err := w.Loan(ctx)
					if err != nil {
						t.Fatal(err)
					}
					binary.LittleEndian.PutUint64(f.Bytes(), uint64(i))
					w.Publish(uint64(i) * 3)
				}
				w.Close()
				wg.Wait()
				t.Logf("got %d and %d frames; stat %+v", len(got[0]), len(got[1]), r.Stat())
				if pol == ring.Block {
					total := len(got[0]) + len(got[1])
					if mode == ring.Broadcast && (len(got[0]) != n || len(got[1]) != n) || mode == ring.Queue && total != n {
						t.Errorf("lost frames: %d %d", len(got[0]), len(got[1]))
					}
				}
			})
		}
	}
}
