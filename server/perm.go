package server

import (
	"fmt"
	"os"

	"github.com/ndshm/ndshm"
)

// permOpts are the options that make a named block with s.Perm: the
// block is created under the umask, which only ever takes bits away, and
// chmod then sets it exactly.
func (s *Server) permOpts() []ndshm.Option {
	if s.Perm == 0 {
		return nil
	}
	return []ndshm.Option{ndshm.Perm(s.Perm)}
}

// chmod gives the new block b exactly the mode s.Perm, whatever the
// umask took away when it was created, as install -m does.
func (s *Server) chmod(b *ndshm.Block) error {
	if s.Perm == 0 {
		return nil
	}
	f, err := b.File()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(s.Perm.Perm()); err != nil {
		return fmt.Errorf("server: chmod %s: %w", b.Name(), err)
	}
	return nil
}

// chmodSocket gives the socket file at path the mode s.Perm.
func (s *Server) chmodSocket(path string) error {
	if s.Perm == 0 {
		return nil
	}
	if err := os.Chmod(path, s.Perm.Perm()); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
