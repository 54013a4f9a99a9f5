package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/ndshm/ndshm"
)

// modeValue is --mode: the permission bits of what a command creates, in
// octal as chmod takes them. They are set exactly, whatever the umask,
// as install -m and mkdir -m do: asking for 0640 gets 0640.
type modeValue struct {
	perm fs.FileMode
	set  bool
}

// modeUsage is the help of --mode (--file-mode of ring create).
const modeUsage = "the permission bits `MODE` of the new block, in octal as chmod takes them; set exactly, whatever the umask"

func (m *modeValue) String() string {
	if !m.set {
		return "0600" // the library's default, owner only
	}
	return fmt.Sprintf("%#o", m.perm)
}

func (m *modeValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return errors.New("want octal permission bits, 0 to 0777, such as 0640")
	}
	m.perm, m.set = fs.FileMode(n), true
	return nil
}

// opts are the creation options for the mode: the umask may take bits
// away until apply restores them, never add any.
func (m *modeValue) opts() []ndshm.Option {
	if !m.set {
		return nil
	}
	return []ndshm.Option{ndshm.Perm(m.perm)}
}

// apply gives the new block b exactly the asked mode.
func (m *modeValue) apply(b *ndshm.Block) error {
	if !m.set {
		return nil
	}
	f, err := b.File()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(m.perm); err != nil {
		return fmt.Errorf("chmod %s: %w", b.Name(), err)
	}
	return nil
}
