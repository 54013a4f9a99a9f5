package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// inspectKeys are the keys inspect --json must always print.
var inspectKeys = []string{"name", "kind", "dtype", "shape", "order", "count", "size_bytes", "data_offset",
	"file_size_bytes", "persistent", "anonymous", "huge_pages", "creator_pid", "creator_alive", "orphan", "created", "users"}

func TestInspect(t *testing.T) {
	name := newName(t)
	before := time.Now()
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Int32, Shape: []int{2, 3}, Fortran: true}, func(i int) int32 { return 0 })

	out := mustRun(t, "inspect", name, "--json")
	m := decodeJSON[map[string]any](t, out)
	for _, k := range inspectKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("inspect --json lacks %q: %s", k, out)
		}
	}
	j := decodeJSON[describe.Block](t, out)
	want := describe.Block{Name: name, Kind: "array", DType: "<i4", Shape: []int{2, 3}, Order: "F", Count: 6,
		SizeBytes: 24, DataOffset: 4096, FileSizeBytes: 3 * 4096, Persistent: true,
		CreatorPID: os.Getpid(), CreatorAlive: true, Created: j.Created, Users: []int{}}
	if !equalJSON(j, want) {
		t.Errorf("inspect --json = %+v\nwant %+v", j, want)
	}
	created, err := time.Parse(time.RFC3339Nano, *j.Created)
	if err != nil || created.Before(before) || created.After(time.Now()) {
		t.Errorf("created %q, want a time since %v: %v", *j.Created, before, err)
	}

	// Human: one aligned "key: value" line per JSON key, in order.
	lines := strings.Split(strings.TrimSuffix(mustRun(t, "inspect", name), "\n"), "\n")
	col := strings.Index(lines[0], name)
	for i, line := range lines {
		key, _, _ := strings.Cut(line, ":")
		if i >= len(inspectKeys) || key != inspectKeys[i] || len(line) <= col || line[col-1] != ' ' || line[col] == ' ' {
			t.Errorf("inspect line %d %q: want key %s and value at column %d", i, line, inspectKeys[min(i, len(inspectKeys)-1)], col)
		}
	}
}

func equalJSON(a, b describe.Block) bool { return reflect.DeepEqual(a, b) }

func TestInspectDeadCreator(t *testing.T) {
	for _, persistent := range []string{"owned", "persistent"} {
		name := newName(t)
		if err := shmtest.Command("create", name, persistent).Run(); err != nil {
			t.Fatal(err)
		}
		j := decodeJSON[describe.Block](t, mustRun(t, "inspect", "/dev/shm/"+name, "--json"))
		if j.CreatorAlive || j.Persistent != (persistent == "persistent") || j.CreatorPID == os.Getpid() {
			t.Errorf("%s block of an exited creator: %+v", persistent, j)
		}
	}
}

func TestInspectRaw(t *testing.T) {
	name := newName(t)
	if err := os.WriteFile("/dev/shm/"+name, make([]byte, 20), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "inspect", name, "--json", "--dtype", "u1", "--shape", "4,4")
	if m := decodeJSON[map[string]any](t, out); m["created"] != nil {
		t.Errorf("raw block's created is %v, want null", m["created"])
	}
	j := decodeJSON[describe.Block](t, out)
	want := describe.Block{Name: name, Kind: "raw", DType: "|u1", Shape: []int{4, 4}, Order: "C", Count: 16,
		SizeBytes: 16, FileSizeBytes: 20, Persistent: true, Users: []int{}}
	if !equalJSON(j, want) {
		t.Errorf("inspect raw = %+v\nwant %+v", j, want)
	}
	if out := mustRun(t, "inspect", name, "--dtype", "u1", "--shape", "4"); !strings.Contains(out, "created:         -\n") {
		t.Errorf("human inspect of a raw block:\n%s", out)
	}
	// Without --dtype and --shape it is not a block, and the error says
	// how to read it.
	_, _, err := ndshmRun(t, "inspect", name)
	if !errors.Is(err, ndshm.ErrFormat) || !strings.Contains(err.Error(), "--dtype and --shape") {
		t.Errorf("inspect of a raw file: %v", err)
	}
	// Too small for the shape.
	if _, _, err := ndshmRun(t, "inspect", name, "--dtype", "f8", "--shape", "4"); !errors.Is(err, ndshm.ErrFormat) {
		t.Errorf("inspect of a 20-byte raw file as 32 bytes: %v", err)
	}
}

func TestInspectMissing(t *testing.T) {
	name := newName(t)
	for _, args := range [][]string{{"inspect", name}, {"inspect", name, "--dtype", "f8", "--shape", "1"}} {
		if _, _, err := ndshmRun(t, args...); !errors.Is(err, fs.ErrNotExist) || isUsage(err) {
			t.Errorf("%q: %v, want ErrNotExist", args, err)
		}
	}
}

// inspect shows who uses a block and whether it is an orphan, and its
// JSON is ndshm.Info's, key for key, as the server sends it.
func TestInspectUsersOrphan(t *testing.T) {
	name := newName(t)
	cmd := shmtest.Command("create", name, "owned")
	// Without the second a race-detector child sleeps before it exits.
	cmd.Env = append(cmd.Env, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := mustRun(t, "inspect", name, "--json")
	j := decodeJSON[describe.Block](t, out)
	if !j.Orphan || j.CreatorAlive || !reflect.DeepEqual(j.Users, []int{os.Getpid()}) {
		t.Errorf("inspect of a mapped orphan: %+v", j)
	}
	human := mustRun(t, "inspect", name)
	for _, want := range []string{"\norphan:          true\n", "\nusers:           " + strconv.Itoa(os.Getpid()) + "\n"} {
		if !strings.Contains(human, want) {
			t.Errorf("inspect lacks %q:\n%s", want, human)
		}
	}
	info, err := ndshm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	var lib strings.Builder
	enc := json.NewEncoder(&lib)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(info); err != nil || lib.String() != out {
		t.Errorf("inspect --json and Info's JSON differ:\n%s\n%s", out, lib.String())
	}
}
