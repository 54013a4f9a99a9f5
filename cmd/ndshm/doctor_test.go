package main

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// doctor --json has every documented key, each of its JSON type (null
// where the type allows it), and a measured 4 KiB touch; its text form
// names the same facts.
func TestDoctorJSON(t *testing.T) {
	got := decodeJSON[map[string]any](t, mustRun(t, "doctor", "--json"))
	const (
		num, str, boolean, list = "number", "string", "bool", "list"
		orNull                  = "|null"
	)
	want := map[string]string{
		"page_touch_ns_4k": num, "page_touch_ns_huge": num + orNull, "huge_page_bytes": num + orNull,
		"huge_source": str + orNull, "huge_unavailable": str + orNull,
		"shm_dir": str, "shm_dir_fstype": str + orNull, "shm_dir_mount_point": str + orNull,
		"shm_dir_mount_options": str + orNull, "shm_dir_huge": boolean, "shm_dir_huge_option": str + orNull,
		"shm_dir_size_bytes": num + orNull, "shm_dir_free_bytes": num + orNull,
		"thp_enabled": str + orNull, "shmem_enabled": str + orNull,
		"hugetlb_total_pages": num, "hugetlb_free_pages": num, "hugetlb_page_bytes": num,
		"remove_ipc": boolean + orNull, "memlock_limit_bytes": num + orNull, "memlock_max_bytes": num + orNull,
		"open_files_limit": num + orNull, "open_files_max": num + orNull,
		"seconds": num, "advice": list,
	}
	for key, types := range want {
		v, ok := got[key]
		if !ok {
			t.Errorf("doctor --json lacks %q", key)
			continue
		}
		if typ := jsonType(v); !slices.Contains(strings.Split(types, "|"), typ) {
			t.Errorf("doctor --json: %q is %v, a %s; want %s", key, v, typ, types)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("doctor --json has undocumented key %q", key)
		}
	}
	if ns, _ := got["page_touch_ns_4k"].(float64); ns <= 0 {
		t.Errorf("page_touch_ns_4k = %v, want > 0", got["page_touch_ns_4k"])
	}
	if (got["page_touch_ns_huge"] == nil) == (got["huge_unavailable"] == nil) {
		t.Errorf("page_touch_ns_huge %v and huge_unavailable %v: want exactly one null", got["page_touch_ns_huge"], got["huge_unavailable"])
	}
	if got["shm_dir"] != "/dev/shm" {
		t.Errorf("shm_dir = %v, want /dev/shm", got["shm_dir"])
	}
	text := mustRun(t, "doctor")
	for _, s := range []string{"first touch, 4 KiB pages", "/dev/shm: tmpfs, ", "logind RemoveIPC"} {
		if !strings.Contains(text, s) {
			t.Errorf("ndshm doctor prints %q, want it to contain %q", text, s)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "list"
	}
	return "object"
}

// doctor --dir on a tmpfs mounted with huge=always sees it so, and gets
// huge pages there, leaving no file in it. The tmpfs lives in a private mount namespace of its
// own (unshare -m makes mounts private), so nothing stays mounted.
func TestDoctorHugeTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	bin := builtNdshm(t)
	dir := t.TempDir()
	var stderr bytes.Buffer
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o huge=always,size=64m ndshm-doctor-test "$1" && "$2" doctor --json --dir "$1" && `+
			`{ test -z "$(ls -A "$1")" || { echo doctor left files: "$(ls -A "$1")" >&2; exit 1; }; }`, "sh", dir, bin)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "unshare failed") || strings.Contains(stderr.String(), "Operation not permitted") {
			t.Skipf("cannot make a mount namespace: %s", stderr.String())
		}
		t.Fatalf("%v: %s", err, stderr.String())
	}
	got := decodeJSON[map[string]any](t, string(out))
	for key, want := range map[string]any{
		"shm_dir": dir, "shm_dir_huge": true, "shm_dir_huge_option": "always", "shm_dir_fstype": "tmpfs",
		"shm_dir_mount_point": dir, "shm_dir_size_bytes": float64(64 << 20),
	} {
		if got[key] != want {
			t.Errorf("doctor --json --dir on a huge tmpfs: %s = %v, want %v", key, got[key], want)
		}
	}
	if opts, _ := got["shm_dir_mount_options"].(string); !strings.Contains(opts, "huge=always") || !strings.Contains(opts, "size=65536k") {
		t.Errorf("shm_dir_mount_options = %q, want huge=always and size=65536k", opts)
	}
	t.Logf("huge tmpfs: page_touch_ns_4k %v, page_touch_ns_huge %v (%v)", got["page_touch_ns_4k"], got["page_touch_ns_huge"], got["huge_source"])
	// Transparent huge pages on a huge=always tmpfs are the kernel's to
	// give: with memory too fragmented it gives none, which is no bug.
	if got["huge_source"] != nil && got["huge_source"] != "shm_dir" {
		t.Errorf("huge_source = %v, want shm_dir", got["huge_source"])
	}
	if b, err := os.ReadFile("/proc/self/mounts"); err != nil || strings.Contains(string(b), dir) {
		t.Errorf("the test tmpfs is still mounted here (err %v)", err)
	}
}
