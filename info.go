package ndshm

import (
	"errors"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// Info describes a block as its header and footer tell it.
type Info struct {
	Name         string // "" for an anonymous block
	Kind         BlockKind
	Spec         Spec
	DataOffset   int64 // where the array's bytes start in the file
	FileSize     int64
	Persistent   bool // outlives its creator; only Unlink removes it
	Anonymous    bool
	CreatorPID   int
	CreatorStart uint64 // the creator's start time, clock ticks since boot
	Created      time.Time
	CreatorAlive bool  // the creator runs: its liveness lock is held, or for a persistent block its pid and start time match
	Users        []int // pids that map the block or hold it open, as /proc shows them

	// HugePages says the kernel maps the block's data with huge pages:
	// hugetlb pages, or transparent huge pages mapped whole (smaps's
	// ShmemPmdMapped or FilePmdMapped), as this process's mapping shows
	// after reading one byte of its first whole huge page. Block.Info asks
	// the block's own mapping; Stat and List map the file for a moment.
	HugePages bool

	// Truncated marks a description shortened to fit a server's reply
	// (docs/PROTOCOL.md): Spec.DType is an opaque void of the real
	// element size in place of a structured dtype too long to send, and
	// Users may lack some pids. Open the block for its real dtype.
	Truncated bool

	id   sys.FileID
	live int64 // file offset of the liveness byte
}

// Orphan reports whether the block is owned by a creator that is dead:
// nothing will ever unlink it but a garbage collection.
func (i Info) Orphan() bool { return !i.Persistent && !i.Anonymous && !i.CreatorAlive }

// Stat describes the named block without mapping it, including the
// processes that use it. It fails with ErrFormat for a file that is not
// an ndshm block. Of the options it heeds UsersWithin.
func Stat(name string, opts ...Option) (Info, error) {
	name, err := checkName("stat", name)
	if err != nil {
		return Info{}, err
	}
	info, err := stat(name)
	if err == nil {
		info.Users = slices.Clone(users(opts)[info.id])
	}
	return info, err
}

// UsersWithin lets Stat and List take Info.Users from a search of /proc
// that began up to d before the call, made for another caller in this
// process, rather than a search of their own. A search costs milliseconds
// of CPU, more with many processes and descriptors: a program that
// answers many such calls (a server) bounds its cost with this. Without
// it the users are as fresh as a search of the caller's own, but callers
// that arrive while a search runs still share the next one, so at most
// one runs at a time.
func UsersWithin(d time.Duration) Option { return func(o *options) { o.usersAge = max(d, 0) } }

// users searches /proc for users, as opts allow.
func users(opts []Option) map[sys.FileID][]int {
	return sys.SharedUsers.Users(optionsOf(opts).usersAge)
}

// stat is Stat without the costly search for users.
func stat(name string) (Info, error) {
	fd, err := sys.Open(name, false)
	if err != nil {
		return Info{}, pathErr("stat", name, err)
	}
	defer sys.Close(fd)
	m, err := readMeta(fd)
	if err != nil {
		return Info{}, pathErr("stat", name, err)
	}
	info := m.info(name)
	info.CreatorAlive = creatorAlive(fd, info)
	info.HugePages = hugeFile(fd, m.size)
	return info, nil
}

// creatorAlive reports whether the block's creator still runs. An owned
// block's creator holds its liveness lock, which the kernel drops however
// it dies, whatever the footer's pid says.
func creatorAlive(fd int, info Info) bool {
	if info.Persistent {
		return creatorRuns(info)
	}
	held, _ := sys.Held(fd, info.live)
	return held
}

// creatorRuns reports whether a process with the creator's pid and start
// time runs: the pid alone may have been reused. A persistent block has no
// lock holder to ask.
func creatorRuns(info Info) bool {
	if info.CreatorPID <= 0 {
		return false
	}
	start, err := sys.StartTime(info.CreatorPID)
	return err == nil && start == info.CreatorStart
}

// hugeFile reports whether the file open as fd, of size bytes, has its
// pages huge, through a read-only mapping made for the question. The
// mapping is gone before Stat searches /proc for users.
func hugeFile(fd int, size int64) bool {
	mem, err := sys.Map(fd, int(size), false)
	if err != nil {
		return false
	}
	defer sys.Unmap(mem)
	return sys.HugeMapped(mem)
}

// Info describes the block. For a persistent block CreatorAlive says
// whether its creator runs; otherwise it is true only for an owned block
// that this process made and has not closed: use Stat to ask the kernel
// about another creator.
func (b *Block) Info() Info {
	m := meta{spec: b.Spec(), foot: b.foot, size: b.size, id: b.file.ID()}
	info := m.info(b.Name())
	if info.Persistent {
		info.CreatorAlive = creatorRuns(info)
	} else {
		info.CreatorAlive = b.file.Owned() && !b.file.Closed()
	}
	b.file.Use(func(mem []byte) error {
		info.HugePages = sys.HugeMapped(mem)
		return nil
	})
	return info
}

func (m meta) info(name string) Info {
	f := m.foot
	return Info{
		Name: name, Kind: f.kind, Spec: m.spec,
		DataOffset: f.dataOff, FileSize: m.size,
		Persistent: f.flags&flagPersistent != 0, Anonymous: f.flags&flagAnonymous != 0,
		CreatorPID: f.pid, CreatorStart: f.start, Created: f.created,
		id: m.id, live: m.size - f.footerSize + livenessOff,
	}
}

// List describes every ndshm block in the block directory ($NDSHM_DIR,
// default /dev/shm), sorted by name. Files
// without ndshm's magic (other tools' segments, raw blocks) are skipped,
// never opened for writing. Blocks that vanish or change while List reads
// them are skipped too; other errors end the listing. Of the options it
// heeds UsersWithin.
func List(opts ...Option) ([]Info, error) {
	if err := sys.DirErr(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(sys.Dir)
	if err != nil {
		return nil, err
	}
	var infos []Info
	who := users(opts)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := stat(e.Name())
		switch {
		case err == nil:
			info.Users = slices.Clone(who[info.id])
			infos = append(infos, info)
		case errors.Is(err, ErrFormat), errors.Is(err, os.ErrNotExist),
			errors.Is(err, os.ErrPermission), errors.Is(err, ErrDType):
			// not ours, gone, or not ours to read
		default:
			return infos, err
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}
