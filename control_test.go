package ndshm_test

import (
	"errors"
	"os"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// control is the option package ring lays its control words out with.
func control(n int) ndshm.Option {
	return block.Option(block.Layout{Kind: block.Ring, Control: n}).(ndshm.Option)
}

// A block with control words has a footer longer than a page; it is
// still a plain array to Open, to its File's Control, and to NumPy.
func TestControlWords(t *testing.T) {
	for _, n := range []int{0, 64, 3968, 3969, 10000} {
		name := shmtest.Name()
		spec := ndshm.Spec{DType: ndshm.Int32, Shape: []int{3, 5}}
		b, err := ndshm.Create(name, spec, control(n))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		ctl := block.Of(b).Control()
		if len(ctl) < n || len(ctl)%64 != 48 { // 128 fixed bytes and a 16-byte trailer off whole pages
			t.Errorf("control %d: Control() is %d bytes", n, len(ctl))
		}
		for i := range ctl {
			if ctl[i] != 0 {
				t.Fatalf("control %d: byte %d is %d, want 0", n, i, ctl[i])
			}
		}
		for i := range ctl {
			ctl[i] = 0xa5 // must not disturb the footer's own fields
		}
		st, _ := os.Stat("/dev/shm/" + name)
		wantSize := int64(4096 + 4096 + (128+n+16+4095)/4096*4096)
		if st.Size() != wantSize {
			t.Errorf("control %d: file is %d bytes, want %d", n, st.Size(), wantSize)
		}
		o, err := ndshm.Open(name)
		if err != nil {
			t.Fatalf("control %d: Open: %v", n, err)
		}
		of := block.Of(o)
		if o.Info().Kind != ndshm.KindRing || of.Kind() != block.Ring || len(of.Control()) != len(ctl) || of.Control()[len(ctl)-1] != 0xa5 {
			t.Errorf("control %d: reopened kind %v, %d control bytes", n, o.Info().Kind, len(of.Control()))
		}
		o.Close()
		var got struct{ Shape []int }
		python(t, &got, "a = np.load(sys.argv[1], mmap_mode='r'); print(json.dumps({'Shape': list(a.shape)}))", "/dev/shm/"+name)
		if len(got.Shape) != 2 || got.Shape[0] != 3 || got.Shape[1] != 5 {
			t.Errorf("control %d: NumPy sees shape %v", n, got.Shape)
		}
	}
}

func TestControlTooLarge(t *testing.T) {
	_, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}, control(1<<30))
	if err == nil || !errors.As(err, new(*os.PathError)) {
		t.Fatalf("1 GiB of control words: %v", err)
	}
}
