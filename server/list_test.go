package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// wideNPY returns a .npy stream of n records of a structured dtype with
// the given number of one-byte fields: a legal block whose description
// is longer than a message.
func wideNPY(fields, n int) *bytes.Reader {
	var d strings.Builder
	d.WriteString("{'descr': [")
	for i := range fields {
		fmt.Fprintf(&d, "('f%05d', '|u1'), ", i)
	}
	fmt.Fprintf(&d, "], 'fortran_order': False, 'shape': (%d,), }", n)
	dict := d.String()
	pad := 64 - (12+len(dict)+1)%64
	dict += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x03\x00")
	binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	b.WriteString(dict)
	b.Write(make([]byte, fields*n))
	return bytes.NewReader(b.Bytes())
}

// One block whose description is longer than a message does not break
// list (nor stat) for anyone: it comes shortened, marked truncated.
func TestListWideBlock(t *testing.T) {
	socket := serve(t)
	wide, small := shmtest.Name(), shmtest.Name()
	b, err := ndshm.LoadReader(wideNPY(4000, 3), wide)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := ndshm.Create(small, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, socket)
	infos, err := c.List()
	if err != nil {
		t.Fatalf("list with a 4000-field block: %v", err)
	}
	found := map[string]ndshm.Info{}
	for _, info := range infos {
		found[info.Name] = info
	}
	check := func(what string, w ndshm.Info) {
		if !w.Truncated || w.Spec.DType.String() != "|V4000" || w.Spec.Len() != 3 || w.Spec.Size() != 12000 {
			t.Errorf("%s of the wide block: truncated %v, %v; want truncated, |V4000 of shape (3,)", what, w.Truncated, w.Spec)
		}
	}
	check("list", found[wide])
	if info, ok := found[small]; !ok || info.Truncated || info.Spec.DType.String() != "|u1" {
		t.Errorf("list: the small block: %+v (found %v)", info, ok)
	}
	w, err := c.Stat(wide)
	if err != nil {
		t.Fatalf("stat of the wide block: %v", err)
	}
	check("stat", w)
}
