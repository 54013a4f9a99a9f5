package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// privateDir makes dir, the default socket's directory, mode 0700, or
// checks that the one already there is a directory of this user's that
// no other user may enter or write to. In a directory others can write
// to, any user could take the socket's name first and keep the server
// from starting (or, were clients less careful, pose as it).
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("server: make the socket's directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("server: the socket's directory: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	var why string
	switch me := os.Geteuid(); {
	case !fi.IsDir():
		why = fmt.Sprintf("is a %v, not a directory", fi.Mode().Type())
	case st == nil:
		why = "has no owner that this system reports"
	case int(st.Uid) != me:
		why = fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", st.Uid, me)
	case fi.Mode().Perm()&0o077 != 0:
		why = fmt.Sprintf("has mode %04o: other users may use it", fi.Mode().Perm())
	}
	if why != "" {
		return fmt.Errorf("server: the socket's directory %s %s; remove it (a server makes it, mode 0700), or use another socket (--socket, or XDG_RUNTIME_DIR): %w",
			dir, why, fs.ErrPermission)
	}
	return nil
}
