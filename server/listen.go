package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"

	"github.com/ndshm/ndshm/internal/sys"
)

// listen binds the socket at path, mode 0600. A socket file already
// there is either a live server's, which is an ErrRunning, or one left by
// a server that was killed, which nothing answers on: it is removed. A
// file that is not a socket is never removed.
func listen(path string) (*net.UnixListener, error) {
	ln, err := sys.Listen(path)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return ln, wrapListen(path, err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("server: listen on %s: file exists and is not a socket", path)
	}
	c, err := sys.Dial(path)
	if err == nil {
		c.Close()
		return nil, fmt.Errorf("server: %s: %w", path, ErrRunning)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return nil, wrapListen(path, err)
	}
	// Stale: its server died without removing it.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, wrapListen(path, err)
	}
	ln, err = sys.Listen(path)
	return ln, wrapListen(path, err)
}

func wrapListen(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("server: listen on %s: %w", path, err)
}
