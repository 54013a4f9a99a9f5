// Package handoff measures what it costs to give an array to another
// process: by name, the ndshm way (the peer attaches and touches one
// byte), or by copying its bytes through a unix socket, the fastest
// copying channel. `ndshm bench handoff`, `ndshm demo` and the package's
// benchmarks all drive the same peer.
package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// Requests are one op byte and a u64 length, then that many bytes: a
// block name for opNamed, the payload for opCopy. The reply is two bytes:
// 0 and a byte of the data, or 1 and 0 when the peer could not do it.
const (
	opNamed = 'n'
	opCopy  = 'c'
)

// Serve answers requests on conn until it closes. It is the peer's whole
// life: call it from the re-executed process with the socket it was
// given as fd 3.
func Serve(conn io.ReadWriter) error {
	var hdr [9]byte
	var buf []byte
	for {
		spin(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := binary.LittleEndian.Uint64(hdr[1:])
		if n > 1<<40 {
			return fmt.Errorf("handoff: request of %d bytes", n)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			return err
		}
		reply := []byte{0, 0}
		if v, err := answer(hdr[0], buf[:n]); err != nil {
			reply[0] = 1
		} else {
			reply[1] = v
		}
		if _, err := conn.Write(reply); err != nil {
			return err
		}
	}
}

// answer attaches to a block or inspects a copy, and returns one of its
// bytes so that the work cannot be skipped.
func answer(op byte, payload []byte) (byte, error) {
	switch op {
	case opCopy:
		if len(payload) == 0 {
			return 0, nil
		}
		return payload[len(payload)-1], nil
	case opNamed:
		b, err := ndshm.Open(string(payload))
		if err != nil {
			return 0, err
		}
		defer b.Close()
		if d := b.Bytes(); len(d) > 0 {
			return d[len(d)-1], nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("handoff: unknown op %q", op)
}

// ServeFd3 runs Serve on the socket a Client passed as fd 3.
func ServeFd3() error {
	conn := os.NewFile(3, "handoff")
	defer conn.Close()
	return Serve(conn)
}

// spinFor is how long each side polls for the other's message before it
// blocks: on a virtual machine, waking an idle CPU costs tens of
// microseconds, more than the whole hand-off. Both methods get it alike.
const spinFor = 50 * time.Microsecond

// spin polls conn for something to read for up to spinFor, when conn is
// a descriptor.
func spin(conn any) {
	if f, ok := conn.(interface{ Fd() uintptr }); ok {
		sys.SpinReadable(int(f.Fd()), spinFor)
	}
}
