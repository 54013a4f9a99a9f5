package server_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

// The default socket lives in a directory only its user may write to:
// the server makes it, mode 0700, or refuses one that another user could
// have made to squat the socket.
func TestDefaultSocketDir(t *testing.T) {
	_, uid, gid := shmtest.User(t)
	base := t.TempDir()
	dir := func(name string, perm fs.FileMode, owner int) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, perm); err == nil {
			err = os.Chmod(p, perm) // past the umask
			if err == nil && owner >= 0 {
				err = os.Chown(p, owner, gid)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir("target", 0o700, -1), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, dir, says string // says "" for a server that serves
	}{
		{"a directory to make", filepath.Join(base, "new"), ""},
		{"our own 0700 directory", dir("ours", 0o700, -1), ""},
		{"another user's directory", dir("theirs", 0o777, uid), "is owned by uid " + strconv.Itoa(uid)},
		{"a directory others may write to", dir("open", 0o777, -1), "has mode 0777"},
		{"a directory others may enter", dir("readable", 0o755, -1), "has mode 0755"},
		{"a symlink", link, "not a directory"},
	} {
		t.Setenv("XDG_RUNTIME_DIR", tc.dir)
		srv := &server.Server{GCInterval: -1} // on the default socket
		if tc.says != "" {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a server that does not refuse returns at once
			err := srv.Serve(ctx)
			if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: %v; want a refusal saying %q", tc.what, err, tc.says)
			}
			continue
		}
		stop := start(t, srv)
		if _, err := dial(t, server.DefaultSocket()).List(); err != nil {
			t.Errorf("%s: %v", tc.what, err)
		}
		if err := stop(); err != nil {
			t.Errorf("%s: Serve: %v", tc.what, err)
		}
		if fi, err := os.Lstat(tc.dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: the socket's directory: %v, %v; want a directory, mode 0700", tc.what, fi.Mode(), err)
		}
	}
}
