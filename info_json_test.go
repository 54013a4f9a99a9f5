package ndshm_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// infoKeys are Info's JSON keys, in order: inspect --json's, and the
// protocol's block objects (docs/PROTOCOL.md).
var infoKeys = []string{"name", "kind", "dtype", "shape", "order", "count", "size_bytes", "data_offset",
	"file_size_bytes", "persistent", "anonymous", "huge_pages", "creator_pid", "creator_alive", "orphan", "created", "users"}

func TestInfoJSON(t *testing.T) {
	record := "[('x', '<f8'), ('n', '<i4', (3,)), ('', '|V4')]"
	anon, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Complex64, Shape: []int{5}})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	raw := shmtest.Name()
	removeAtEnd(t, raw)
	if err := os.WriteFile(shmFile(raw), make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	rawBlock, err := ndshm.OpenRaw(raw, ndshm.Spec{DType: ndshm.Uint16, Shape: []int{4, 8}})
	if err != nil {
		t.Fatal(err)
	}
	defer rawBlock.Close()
	owned := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{3, 4}, Fortran: true})
	kept := tBlock(t, ndshm.Spec{DType: mustDType(t, "<M8[ns]"), Shape: []int{}}, ndshm.Persistent())
	removeAtEnd(t, kept.Name())
	for _, tc := range []struct {
		what string
		info ndshm.Info
	}{
		{"owned, with a user", stat(t, owned.Name())},
		{"persistent, 0-d", stat(t, kept.Name())},
		{"structured", stat(t, tBlock(t, ndshm.Spec{DType: loadDType(t, record, 24), Shape: []int{2}}).Name())},
		{"orphan", withAlive(stat(t, owned.Name()), false)},
		{"anonymous", anon.Info()},
		{"raw", rawBlock.Info()},
	} {
		b, err := json.Marshal(tc.info)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		checkInfoJSON(t, tc.what, tc.info, b)
		var back ndshm.Info
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: decoding %s: %v", tc.what, b, err)
		}
		if !sameInfo(back, tc.info) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", tc.what, back, tc.info)
		}
	}
}

func stat(t *testing.T, name string) ndshm.Info {
	t.Helper()
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func withAlive(i ndshm.Info, alive bool) ndshm.Info { i.CreatorAlive = alive; return i }

// checkInfoJSON checks the keys of b, in order, and the derived values.
func checkInfoJSON(t *testing.T, what string, info ndshm.Info, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	created, _ := m["created"].(string)
	switch {
	case !slices.Equal(keys, infoKeys):
		t.Errorf("%s: keys %v, want %v", what, keys, infoKeys)
	case m["users"] == nil || len(m["users"].([]any)) != len(info.Users):
		t.Errorf("%s: users %v, want %v as an array", what, m["users"], info.Users)
	case m["orphan"] != info.Orphan() || m["dtype"] != info.Spec.DType.String():
		t.Errorf("%s: orphan %v, dtype %v; want %v, %v", what, m["orphan"], m["dtype"], info.Orphan(), info.Spec.DType)
	case m["count"] != float64(info.Spec.Len()) || m["size_bytes"] != float64(info.Spec.Size()):
		t.Errorf("%s: count %v, size_bytes %v", what, m["count"], m["size_bytes"])
	case (info.Kind == ndshm.KindRaw) != (m["created"] == nil) || created != "" && !strings.Contains(created, "T"):
		t.Errorf("%s: created %v for a %v block", what, m["created"], info.Kind)
	}
}

// sameInfo compares what Info's JSON carries: not CreatorStart.
func sameInfo(a, b ndshm.Info) bool {
	return a.Name == b.Name && a.Kind == b.Kind && sameSpec(a.Spec, b.Spec) &&
		a.DataOffset == b.DataOffset && a.FileSize == b.FileSize && a.Persistent == b.Persistent &&
		a.Anonymous == b.Anonymous && a.CreatorPID == b.CreatorPID && a.CreatorAlive == b.CreatorAlive &&
		a.Created.Equal(b.Created) && slices.Equal(a.Users, b.Users) && a.Orphan() == b.Orphan()
}

func TestInfoJSONErrors(t *testing.T) {
	good := `{"name":"x","kind":"array","dtype":"<f8","shape":[2],"order":"C","created":"2024-01-02T03:04:05Z","users":[]}`
	var info ndshm.Info
	if err := json.Unmarshal([]byte(good), &info); err != nil || info.Spec.Size() != 16 {
		t.Fatalf("good JSON: %+v, %v", info, err)
	}
	for _, tc := range []struct{ what, from, to string }{
		{"unknown dtype", `"<f8"`, `"<q7"`},
		{"bad structured dtype", `"<f8"`, `"[('x', '<f8'"`},
		{"missing shape", `"shape":[2],`, ``},
		{"negative shape", `[2]`, `[-2]`},
		{"bad order", `"C"`, `"K"`},
		{"unknown kind", `"array"`, `"blob"`},
		{"bad created", `"2024-01-02T03:04:05Z"`, `"yesterday"`},
		{"users of the wrong type", `"users":[]`, `"users":"1,2"`},
	} {
		in := strings.Replace(good, tc.from, tc.to, 1)
		got := info
		if err := json.Unmarshal([]byte(in), &got); err == nil || !sameInfo(got, info) {
			t.Errorf("%s: %s decoded to %+v, %v; want an error and no change", tc.what, in, got, err)
		}
	}
	// Kinds this version does not know by name still round-trip.
	if err := json.Unmarshal([]byte(strings.Replace(good, `"array"`, `"kind(7)"`, 1)), &info); err != nil || info.Kind != 7 {
		t.Errorf("kind(7): %v, %v", info.Kind, err)
	}
}

func TestSpecJSON(t *testing.T) {
	for _, s := range []ndshm.Spec{
		{DType: ndshm.Int16, Shape: []int{}},
		{DType: mustDType(t, "|S5"), Shape: []int{2, 0, 3}, Fortran: true},
		{DType: loadDType(t, "[('a', '|u1'), ('b', '<f4', (2, 2))]", 17), Shape: []int{1}},
	} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back ndshm.Spec
		if err := json.Unmarshal(b, &back); err != nil || !sameSpec(back, s) || back.Shape == nil {
			t.Errorf("%v: %s decoded to %v, %v", s, b, back, err)
		}
	}
	for _, in := range []string{`{}`, `{"dtype":"<f8"}`, `{"shape":[1]}`, `{"dtype":"f8","shape":[1],"order":"X"}`, `[]`} {
		var s ndshm.Spec
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s decoded to %v", in, s)
		}
	}
}
