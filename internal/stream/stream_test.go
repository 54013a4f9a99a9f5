package stream

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// Frame i's element, as NumPy would store i in the dtype.
func TestPatternValues(t *testing.T) {
	f32 := func(v float32) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)) }
	for _, tc := range []struct {
		dtype string
		i     uint64
		want  []byte
	}{
		{"u1", 300, []byte{44}},
		{"i1", 200, []byte{200}},
		{"<i2", 258, []byte{2, 1}},
		{">i2", 258, []byte{1, 2}},
		{"<u8", 1 << 40, []byte{0, 0, 0, 0, 0, 1, 0, 0}},
		{"<f4", 3, f32(3)},
		{">f8", 1, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{"<c8", 3, append(f32(3), f32(0)...)},
		{"<f2", 1, []byte{0, 0x3c}},
		{"?", 5, []byte{1}},
		{"?", 6, []byte{0}},
		{"<M8[ns]", 7, []byte{7, 0, 0, 0, 0, 0, 0, 0}},
	} {
		dt, err := ndshm.ParseDType(tc.dtype)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPattern(dt)
		if err != nil {
			t.Fatalf("%s: %v", tc.dtype, err)
		}
		p.set(tc.i)
		if !bytes.Equal(p.item, tc.want) {
			t.Errorf("%s frame %d: element % x, want % x", tc.dtype, tc.i, p.item, tc.want)
		}
	}
	for _, dtype := range []string{"S4", "V8"} {
		dt, _ := ndshm.ParseDType(dtype)
		if _, err := NewPattern(dt); err == nil {
			t.Errorf("%s has a pattern", dtype)
		}
	}
}

// Check passes frames Fill made, and fails frames that differ where a
// torn frame would: anywhere in a small frame; in a large one, at its
// start (an overwrite under way), its end, or everywhere.
func TestPatternCheck(t *testing.T) {
	p, _ := NewPattern(ndshm.Int16)
	for _, size := range []int{0, 2, 6, 4 << 10, WholeCheck, 3 << 20} {
		data := make([]byte, size)
		p.Fill(data, 7)
		other := make([]byte, size)
		p.Fill(other, 8)
		if !p.Check(data, 7) {
			t.Errorf("%d bytes: the frame fill made fails check", size)
		}
		if size == 0 {
			continue
		}
		if p.Check(data, 8) {
			t.Errorf("%d bytes: frame 7 passes as frame 8", size)
		}
		cuts := []int{0, size - 2}
		if size <= WholeCheck {
			cuts = append(cuts, size/2/2*2)
		}
		for _, at := range cuts {
			torn := bytes.Clone(data)
			copy(torn[at:at+2], other)
			if p.Check(torn, 7) {
				t.Errorf("%d bytes: frame 7 torn at byte %d passes", size, at)
			}
		}
		if size > WholeCheck {
			torn := bytes.Clone(data)
			copy(torn, other[:size/3]) // a writer a third of the way through
			if p.Check(torn, 7) {
				t.Errorf("%d bytes: a frame being overwritten passes", size)
			}
		}
	}
}

func TestReceiverCount(t *testing.T) {
	for _, tc := range []struct {
		mode ring.Mode
		seqs []uint64
		lost uint64
		dup  int
	}{
		{ring.Broadcast, []uint64{5, 6, 7}, 0, 0},
		{ring.Broadcast, []uint64{0, 1, 1, 4, 3, 5}, 2, 2},
		{ring.Queue, []uint64{0, 2, 5, 5}, 0, 1},
		{ring.Broadcast, []uint64{}, 0, 0},
	} {
		c := &Receiver{Mode: tc.mode}
		now := time.Now()
		for i, s := range tc.seqs {
			c.AddLatency(time.Duration(i+1) * time.Microsecond)
			c.Count(s, i == 1, now.Add(time.Duration(i)*time.Second))
		}
		rep := c.Report(0)
		torn := min(1, len(tc.seqs)/2)
		if rep.Frames != len(tc.seqs) || rep.Lost != tc.lost || rep.Dup != tc.dup || rep.Torn != torn {
			t.Errorf("%v %v: %+v", tc.mode, tc.seqs, rep)
		}
		if n := len(tc.seqs); n > 1 && (rep.FPS != 1 || rep.P50 != float64((n+1)/2) || rep.P99 != float64(n)) {
			t.Errorf("%v: fps %v, p50 %v, p99 %v", tc.seqs, rep.FPS, rep.P50, rep.P99)
		}
		if rep := c.Report(9); rep.Lost != max(tc.lost, 9) || rep.Missed != 9 {
			t.Errorf("%v with 9 missed: %+v", tc.seqs, rep)
		}
	}
}
