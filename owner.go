package ndshm

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm/internal/sys"
)

// AllowForeign lets Open and OpenRaw map a block owned by another user
// (neither this process's effective uid nor root). They refuse one by
// default because its owner can truncate the file under the mapping at
// any moment, and this process then dies of SIGBUS when it touches the
// lost pages. Pass it only for blocks of a user you trust not to: the
// Block cannot guard against it. Create and CreateAnon ignore it.
func AllowForeign() Option { return func(o *options) { o.foreign = true } }

// openNamed opens the named block read-write for mapping, refusing one
// that another user owns unless the options allow it. The descriptor is
// the caller's.
func openNamed(name string, opts []Option) (int, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	fd, err := sys.Open(name, true)
	if err != nil {
		return -1, err
	}
	if !o.foreign {
		if err := checkOwner(fd); err != nil {
			sys.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// checkOwner refuses a file that neither this user nor root owns.
func checkOwner(fd int) error {
	st, err := sys.Fstat(fd)
	if err != nil {
		return err
	}
	if me := os.Geteuid(); st.UID != me && st.UID != 0 {
		return fmt.Errorf("owned by uid %d, not by this user (uid %d) or root: its owner could truncate it under the mapping (SIGBUS); pass AllowForeign to map it anyway: %w",
			st.UID, me, fs.ErrPermission)
	}
	return nil
}

// mayRemove reports whether this process may unlink a block owned by
// uid from /dev/shm, a sticky directory: only its owner or root can.
func mayRemove(uid int) bool {
	me := os.Geteuid()
	return me == 0 || me == uid
}
