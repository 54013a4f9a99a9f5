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

// A Reply is the peer's answer to one hand-off.
type Reply struct {
	Took  time.Duration // the round trip, as the client saw it
	Value uint64        // the byte touched, or the sum of all bytes
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

// Fresh has the peer map the block name, read it as r says and unmap it.
func (c *Client) Fresh(name string, r Read) (Reply, error) {
	return c.roundTrip(opFresh, r, []byte(name))
}

// Warm has the peer read the block name as r says through the mapping it
// kept from the last Warm of name; the first Warm maps it. Forget unmaps.
func (c *Client) Warm(name string, r Read) (Reply, error) {
	return c.roundTrip(opWarm, r, []byte(name))
}

// Forget has the peer unmap every block it kept for Warm.
func (c *Client) Forget() error {
	_, err := c.roundTrip(opForget, Touch, nil)
	return err
}

// Huge has the peer read all of the block name, through the mapping kept
// by Warm or else a fresh one, and say whether its data was mapped with
// huge pages (see HugeMapped).
func (c *Client) Huge(name string) (bool, error) {
	_, flags, err := c.request(opHuge, All, []byte(name))
	return flags&flagHuge != 0, err
}

// Copy sends data through the socket to the peer, which receives all of
// it into a buffer it keeps and reads it as r says.
func (c *Client) Copy(data []byte, r Read) (Reply, error) {
	return c.roundTrip(opCopy, r, data)
}

func (c *Client) roundTrip(op byte, r Read, payload []byte) (Reply, error) {
	start := time.Now()
	v, _, err := c.request(op, r, payload)
	return Reply{Took: time.Since(start), Value: v}, err
}

func (c *Client) request(op byte, r Read, payload []byte) (uint64, byte, error) {
	var hdr [max(hdrLen, replyLen)]byte
	hdr[0], hdr[1] = op, byte(r)
	binary.LittleEndian.PutUint64(hdr[2:], uint64(len(payload)))
	if _, err := c.conn.Write(hdr[:hdrLen]); err != nil {
		return 0, 0, err
	}
	if _, err := c.conn.Write(payload); err != nil {
		return 0, 0, err
	}
	spin(c.conn)
	if _, err := io.ReadFull(c.conn, hdr[:replyLen]); err != nil {
		return 0, 0, fmt.Errorf("handoff: peer died: %w", err)
	}
	if hdr[0] != 0 {
		return 0, 0, errors.New("handoff: peer could not do it")
	}
	return binary.LittleEndian.Uint64(hdr[2:]), hdr[1], nil
}

// Close ends the peer (it sees EOF) and waits for it.
func (c *Client) Close() error {
	c.conn.Close()
	return c.cmd.Wait()
}
