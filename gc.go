package ndshm

import (
	"errors"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm/internal/sys"
)

// GCOptions adjusts GC.
type GCOptions struct {
	DryRun bool // report what would be removed, remove nothing
	Force  bool // remove orphans even while live processes still map them

	// Match, if set, limits the collection to the orphans whose names it
	// accepts: one application's blocks, say, or one test's.
	Match func(name string) bool
}

// A Collected block is an orphan GC found.
type Collected struct {
	Info
	Removed bool // false when dry-running, when still in use, or when another removed it first
}

// GC finds orphans, owned blocks whose creator is dead, and unlinks them.
// It never touches a persistent block, a block whose creator lives, or a
// file without ndshm's format. An orphan that live processes still map is
// reported but left alone unless opts.Force: unlinking it would not free
// its memory anyway, only hide it. Another user's orphan is reported and
// left alone unless this process is root: /dev/shm lets only the owner
// remove it. Processes that map a removed block
// keep their mapping; the memory goes with the last of them.
//
// GC is safe to run concurrently with other GCs and with creators.
func GC(opts GCOptions) ([]Collected, error) {
	infos, err := List()
	var out []Collected
	for _, info := range infos {
		if !info.Orphan() || opts.Match != nil && !opts.Match(info.Name) {
			continue
		}
		c := Collected{Info: info}
		if !opts.DryRun && (len(info.Users) == 0 || opts.Force) {
			removed, rerr := collect(info)
			c.Removed = removed
			err = errors.Join(err, rerr)
		}
		out = append(out, c)
	}
	return out, err
}

// collect unlinks an orphan after checking again, on a descriptor of its
// own, that the name still holds the same file and that its creator is
// still dead: a block made under the same name since List must survive.
func collect(info Info) (bool, error) {
	fd, err := sys.Open(info.Name, false)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // another GC was first
	}
	if err != nil {
		return false, pathErr("gc", info.Name, err)
	}
	defer sys.Close(fd)
	st, err := sys.Fstat(fd)
	if err != nil || st.ID != info.id || !mayRemove(st.UID) {
		return false, nil // replaced, or another user's: unlink would fail
	}
	alive, err := sys.Held(fd, info.live)
	if err != nil || alive || !sys.SameFile(fd, info.Name) {
		return false, nil
	}
	err = sys.Unlink(info.Name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, pathErr("gc", info.Name, err)
}

// mayRemove reports whether this process may unlink a block owned by
// uid from /dev/shm, a sticky directory: only its owner or root can.
func mayRemove(uid int) bool {
	me := os.Geteuid()
	return me == 0 || me == uid
}
