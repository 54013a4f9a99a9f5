package ndshm

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/ndshm/ndshm/internal/npy"
)

// Every dtype a block may hold (testdata/dtypes.json) survives a round
// trip through its text, as a JSON value too.
func TestDTypeTextRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("testdata/dtypes.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		DTypes []struct {
			Descr string
			OK    bool
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range f.DTypes {
		if !v.OK {
			continue
		}
		n++
		descr, err := npy.ParseDescr(v.Descr)
		if err != nil {
			t.Fatalf("%s: %v", v.Descr, err)
		}
		d, err := fromDescr(descr)
		if err != nil {
			t.Fatalf("%s: %v", v.Descr, err)
		}
		text, err := d.MarshalText()
		if err != nil || string(text) != d.String() {
			t.Errorf("%s: MarshalText = %q, %v; want %q", v.Descr, text, err, d.String())
		}
		var back DType
		if err := back.UnmarshalText(text); err != nil || !back.Equal(d) || back.String() != d.String() {
			t.Errorf("%s: UnmarshalText(%q) = %v, %v", v.Descr, text, back, err)
		}
		j, err := json.Marshal(map[string]DType{"dtype": d})
		var jback map[string]DType
		if err == nil {
			err = json.Unmarshal(j, &jback)
		}
		if err != nil || !jback["dtype"].Equal(d) {
			t.Errorf("%s: through JSON %s: %v, %v", v.Descr, j, jback["dtype"], err)
		}
	}
	if n == 0 {
		t.Fatal("no dtypes in testdata/dtypes.json")
	}
}

// UnmarshalText accepts what ParseDType accepts, and refuses the rest
// with ErrDType.
func TestDTypeUnmarshalText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "" for an error
	}{
		{"float64", "<f8"},
		{"f8", "<f8"},
		{">i4", ">i4"},
		{"|u1", "|u1"},
		{"datetime64[ms]", "<M8[ms]"},
		{"[('a', '<f8'), ('b', '|u1')]", "[('a', '<f8'), ('b', '|u1')]"},
		{"", ""},
		{"nope", ""},
		{"[('a', ", ""},
	} {
		var d DType
		err := d.UnmarshalText([]byte(c.in))
		switch {
		case c.want == "" && !errors.Is(err, ErrDType):
			t.Errorf("UnmarshalText(%q) = %v, %v; want ErrDType", c.in, d, err)
		case c.want != "" && (err != nil || d.String() != c.want):
			t.Errorf("UnmarshalText(%q) = %v, %v; want %s", c.in, d, err, c.want)
		}
	}
	if _, err := (DType{}).MarshalText(); !errors.Is(err, ErrDType) {
		t.Errorf("MarshalText of the zero DType: %v", err)
	}
}
