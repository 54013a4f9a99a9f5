package ndshm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// infoJSON is Info on the wire: the keys of `ndshm inspect --json`, in
// its order, and of the server protocol's block objects (docs/PROTOCOL.md).
type infoJSON struct {
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	DType        string  `json:"dtype"`
	Shape        []int   `json:"shape"`
	Order        string  `json:"order"`
	Size         int     `json:"count"`      // elements, derived from the shape
	NBytes       int     `json:"size_bytes"` // data bytes, derived
	DataOffset   int64   `json:"data_offset"`
	FileSize     int64   `json:"file_size_bytes"`
	Persistent   bool    `json:"persistent"`
	Anonymous    bool    `json:"anonymous"`
	HugePages    bool    `json:"huge_pages"`
	CreatorPID   int     `json:"creator_pid"`
	CreatorAlive bool    `json:"creator_alive"`
	Orphan       bool    `json:"orphan"`  // derived: Info.Orphan()
	Created      *string `json:"created"` // RFC 3339, null for a raw block
	Users        []int   `json:"users"`   // [] for none, never null
	Truncated    bool    `json:"truncated,omitempty"`
}

// MarshalJSON encodes the Info as `ndshm inspect --json` prints it: name,
// kind, dtype (NumPy's descriptor, the Python literal of the field list
// for a structured dtype), shape, order ("C" or "F"), count (elements),
// size_bytes (data bytes), data_offset, file_size_bytes, persistent, anonymous, huge_pages, creator_pid,
// creator_alive, orphan, created (RFC 3339, null for a raw block) and
// users (an array, empty for none), and "truncated": true only when
// Truncated. CreatorStart is not encoded.
func (i Info) MarshalJSON() ([]byte, error) {
	s := i.Spec
	j := infoJSON{
		Name: i.Name, Kind: i.Kind.String(), DType: s.DType.String(),
		Shape: append([]int{}, s.Shape...), Order: order(s.Fortran), Size: s.Len(), NBytes: s.Size(),
		DataOffset: i.DataOffset, FileSize: i.FileSize, Persistent: i.Persistent, Anonymous: i.Anonymous, HugePages: i.HugePages,
		CreatorPID: i.CreatorPID, CreatorAlive: i.CreatorAlive, Orphan: i.Orphan(),
		Users: append([]int{}, i.Users...), Truncated: i.Truncated,
	}
	if i.Kind != KindRaw {
		c := i.Created.Format(time.RFC3339Nano)
		j.Created = &c
	}
	return marshal(j)
}

// marshal is json.Marshal without HTML escapes: dtypes read "<f8", not
// "\u003cf8", wherever an encoder that does not escape either prints them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes what MarshalJSON encodes. The derived keys count,
// size_bytes and orphan are ignored; dtype, shape and kind must be valid, so
// a decoded Info always has a usable Spec. It leaves i unchanged on error.
func (i *Info) UnmarshalJSON(b []byte) error {
	var j infoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	s, err := specFromJSON(j.DType, j.Shape, j.Order)
	if err != nil {
		return fmt.Errorf("ndshm: block %q: %w", j.Name, err)
	}
	k, err := parseKind(j.Kind)
	if err != nil {
		return err
	}
	out := Info{Name: j.Name, Kind: k, Spec: s, DataOffset: j.DataOffset, FileSize: j.FileSize,
		Persistent: j.Persistent, Anonymous: j.Anonymous, HugePages: j.HugePages, CreatorPID: j.CreatorPID,
		CreatorAlive: j.CreatorAlive, Users: j.Users, Truncated: j.Truncated}
	if j.Created != nil {
		if out.Created, err = time.Parse(time.RFC3339Nano, *j.Created); err != nil {
			return fmt.Errorf("ndshm: block %q: created: %w", j.Name, err)
		}
	}
	*i = out
	return nil
}

func order(fortran bool) string {
	if fortran {
		return "F"
	}
	return "C"
}

// parseKind is the inverse of Kind.String.
func parseKind(s string) (BlockKind, error) {
	for _, k := range []BlockKind{KindRaw, KindArray, KindRing} {
		if s == k.String() {
			return k, nil
		}
	}
	var n uint32
	if _, err := fmt.Sscanf(s, "kind(%d)", &n); err == nil && s == BlockKind(n).String() {
		return BlockKind(n), nil
	}
	return 0, fmt.Errorf("ndshm: unknown block kind %q", s)
}

var errShape = errors.New("missing shape")

// specFromJSON builds a Spec from its JSON fields and checks it.
func specFromJSON(dtype string, shape []int, ord string) (Spec, error) {
	var dt DType // a structured one as the field list DType.String gives
	err := dt.UnmarshalText([]byte(dtype))
	if err != nil {
		return Spec{}, err
	}
	if shape == nil {
		return Spec{}, errShape
	}
	var s Spec
	switch strings.ToUpper(ord) {
	case "", "C":
	case "F":
		s.Fortran = true
	default:
		return Spec{}, fmt.Errorf("order %q: want C or F", ord)
	}
	s.DType, s.Shape = dt, shape
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// specJSON is Spec on the wire, as in Info's JSON and server requests.
type specJSON struct {
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Order string `json:"order"`
}

// MarshalJSON encodes the Spec as {"dtype": D, "shape": [...],
// "order": "C" or "F"}, the same keys Info's JSON uses.
func (s Spec) MarshalJSON() ([]byte, error) {
	return marshal(specJSON{DType: s.DType.String(), Shape: append([]int{}, s.Shape...), Order: order(s.Fortran)})
}

// UnmarshalJSON decodes what MarshalJSON encodes. dtype and shape are
// required (shape [] is a 0-d array); order defaults to C. Other keys are
// ignored. The Spec must describe an array ndshm can make: an unsupported
// dtype wraps ErrDType, a negative or too large shape fails.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var j specJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	v, err := specFromJSON(j.DType, j.Shape, j.Order)
	if err != nil {
		return fmt.Errorf("ndshm: spec: %w", err)
	}
	*s = v
	return nil
}
