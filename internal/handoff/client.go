package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// A Client drives one peer process. It is not safe for concurrent use.
type Client struct {
	conn *os.File
	cmd  *exec.Cmd
}

// Start starts cmd as a peer, handing it its end of a socket pair as
// fd 3. cmd must end up calling ServeFd3.
func Start(cmd *exec.Cmd) (*Client, error) {
	mine, theirs, err := sys.Socketpair(sys.SockStream)
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	return &Client{conn: mine, cmd: cmd}, nil
}

// Named has the peer open the block name, touch its last byte and close
// it, and returns the round-trip time.
func (c *Client) Named(name string) (time.Duration, error) {
	return c.roundTrip(opNamed, []byte(name))
}

// Copy sends data through the socket to the peer, which reads all of it,
// and returns the round-trip time.
func (c *Client) Copy(data []byte) (time.Duration, error) {
	return c.roundTrip(opCopy, data)
}

func (c *Client) roundTrip(op byte, payload []byte) (time.Duration, error) {
	var hdr [9]byte
	hdr[0] = op
	binary.LittleEndian.PutUint64(hdr[1:], uint64(len(payload)))
	start := time.Now()
	if _, err := c.conn.Write(hdr[:]); err != nil {
		return 0, err
	}
	if _, err := c.conn.Write(payload); err != nil {
		return 0, err
	}
	spin(c.conn)
	if _, err := io.ReadFull(c.conn, hdr[:2]); err != nil {
		return 0, fmt.Errorf("handoff: peer died: %w", err)
	}
	d := time.Since(start)
	if hdr[0] != 0 {
		return 0, errors.New("handoff: peer could not attach")
	}
	return d, nil
}

// Close ends the peer (it sees EOF) and waits for it.
func (c *Client) Close() error {
	c.conn.Close()
	return c.cmd.Wait()
}
