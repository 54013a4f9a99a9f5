package sys

import "testing"

// NDSHM_DIR picks the block directory; unset or empty is /dev/shm, and a
// relative value is an error rather than a silent fall back.
func TestDirFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env, want string
		bad       bool
	}{
		{"", "/dev/shm", false},
		{"/dev/shm", "/dev/shm", false},
		{"/mnt/blocks/", "/mnt/blocks", false},
		{"/mnt//blocks/./x/..", "/mnt/blocks", false},
		{"blocks", "/dev/shm", true},
		{"./blocks", "/dev/shm", true},
	} {
		got, err := dirFromEnv(tc.env)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("dirFromEnv(%q) = %q, %v; want %q, error %v", tc.env, got, err, tc.want, tc.bad)
		}
	}
}
