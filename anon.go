package ndshm

import (
	"errors"
	"fmt"

	"github.com/ndshm/ndshm/internal/sys"
)

// CreateAnon makes an anonymous block: an unnamed file with the same
// layout as a named block. It has no name, so it cannot be orphaned: the
// kernel frees it when the last descriptor and mapping are gone. Share it
// with File, or with a child process through exec.Cmd.ExtraFiles.
//
// A block of at least one huge page tries huge pages first, in this
// order, and takes the first that works; missing huge pages are never an
// error (Info.HugePages says what it got):
//
//   - a sealed memfd from the hugetlb pool (MFD_HUGETLB), when the pool
//     has enough free pages for all of it;
//   - a sealed memfd advised to use transparent huge pages, when
//     /sys/kernel/mm/transparent_hugepage/shmem_enabled allows them
//     (advise, always, within_size, force);
//   - an unnamed file (O_TMPFILE) in the block directory, when that is a
//     tmpfs mounted huge=always or huge=within_size. Such a file cannot be
//     sealed: a process that holds a writable descriptor of it may
//     truncate it under every other mapping, which then dies of SIGBUS,
//     where a memfd's seals forbid that. Only descriptors this process
//     hands out (File) reach it, and it takes room in that tmpfs, not in
//     the memfds' unbounded one. Huge pages make a fresh mapping an order
//     of magnitude cheaper to touch, so ndshm takes this trade;
//   - else a sealed memfd of 4 KiB pages.
func CreateAnon(s Spec, opts ...Option) (*Block, error) {
	o := optionsOf(opts)
	o.persistent = true // nothing to unlink
	l, err := plan(s, o, true, 0)
	if err != nil {
		return nil, fmt.Errorf("ndshm: create anonymous block: %w", err)
	}
	ks := []backing{plain}
	if l.size >= sys.HugePageSize() { // else no huge page to gain: spare reading the settings
		ks = anonBackings(hostHuge(), l.size)
	}
	var b *Block
	for _, k := range ks {
		if b, err = createAnon(s, o, k); err == nil || k == plain {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ndshm: create anonymous block: %w", err)
	}
	if o.init != nil {
		if err := o.init(b); err != nil {
			b.Close()
			return nil, fmt.Errorf("ndshm: create anonymous block: %w", err)
		}
	}
	return b, nil
}

// createAnon makes the anonymous block on backing k.
func createAnon(s Spec, o options, k backing) (*Block, error) {
	var align int64
	if k != plain {
		align = sys.HugePageSize()
	}
	if k == hugetlb {
		if _, align = sys.HugetlbFree(); align <= 0 {
			return nil, errors.New("hugetlb: no pool")
		}
	}
	l, err := plan(s, o, true, align)
	if err != nil {
		return nil, err
	}
	if k == hugetlb && l.size%align != 0 {
		return nil, errors.New("hugetlb: the footer cannot pad the block to whole pages")
	}
	fd, err := openAnon(k)
	if err != nil {
		return nil, err
	}
	b, err := build(fd, "", l, o, k)
	if err != nil {
		sys.Close(fd)
	}
	return b, err
}

func openAnon(k backing) (int, error) {
	switch k {
	case hugetlb:
		return sys.MemfdHuge("ndshm")
	case hugeTemp:
		return sys.CreateTempIn(sys.Dir, 0o600)
	}
	fd, err := sys.Memfd("ndshm")
	if err != nil {
		return -1, fmt.Errorf("memfd: %w", err)
	}
	return fd, nil
}

// reserve sizes the new file fd and allocates its pages as k needs: all
// of them now, so a shortage is an error here rather than a SIGBUS at
// the first write, except for a memfd that must be advised to use huge
// pages first (populate allocates those). A memfd is then sealed.
func reserve(fd int, size int64, k backing) error {
	var err error
	if k == thpAdvise {
		err = sys.Truncate(fd, size)
	} else {
		err = sys.Reserve(fd, size)
	}
	if err == nil && k != named && k != hugeTemp {
		err = sys.Seal(fd)
	}
	return err
}

// populate faults the new mapping in for its creator, who is about to
// fill it; the pages of a memfd advised to use huge pages are allocated
// here, so for it a failure is an error.
func populate(mem []byte, k backing) error {
	if k != thp && k != thpAdvise {
		sys.Populate(mem)
		return nil
	}
	if err := sys.AdviseHuge(mem, true); err != nil {
		return fmt.Errorf("madvise: %w", err)
	}
	if err := sys.PopulateWrite(mem); err != nil {
		return fmt.Errorf("populate: %w", err)
	}
	return nil
}
