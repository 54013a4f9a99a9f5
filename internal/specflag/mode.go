package specflag

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/ndshm/ndshm"
)

// Mode is --mode: the permission bits of what a command creates, in
// octal as chmod takes them. They are set exactly, whatever the umask,
// as install -m and mkdir -m do: asking for 0640 gets 0640.
type Mode struct {
	perm fs.FileMode
	set  bool
}

// ModeUsage is the help of --mode (--file-mode of ring create).
const ModeUsage = "the permission bits `MODE` of the new block, in octal as chmod takes them; set exactly, whatever the umask"

// Perm is the permission bits given, 0 if none were: the library's
// default, owner only.
func (m *Mode) Perm() fs.FileMode { return m.perm }

// String is the mode in octal, 0600 (the library's default) if none was
// given.
func (m *Mode) String() string {
	if !m.set {
		return "0600" // the library's default, owner only
	}
	return fmt.Sprintf("%#o", m.perm)
}

// Set parses octal permission bits, 0 to 0777.
func (m *Mode) Set(s string) error {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return errors.New("want octal permission bits, 0 to 0777, such as 0640")
	}
	m.perm, m.set = fs.FileMode(n), true
	return nil
}

// Opts are the creation options for the mode: the umask may take bits
// away until Apply restores them, never add any.
func (m *Mode) Opts() []ndshm.Option {
	if !m.set {
		return nil
	}
	return []ndshm.Option{ndshm.Perm(m.perm)}
}

// Apply gives the new block b exactly the asked mode; without --mode it
// does nothing.
func (m *Mode) Apply(b *ndshm.Block) error {
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
