// Package handoff measures what it costs to give an array to another
// process: by name, the ndshm way (the peer maps the block, afresh or
// through a mapping it kept, and touches one byte or reads them all), or
// by copying its bytes through a unix socket, the fastest copying
// channel, into a buffer the peer keeps. `ndshm bench handoff` and the
// package's benchmarks drive the same peer.
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

// Requests are an op byte, a Read byte and a u64 length, then that many
// bytes: a block name for the named ops, the payload for opCopy. The
// reply is a status byte (0, or 1 when the peer could not do it), a
// flags byte and a u64 value: the byte touched, the sum of all bytes, or
// for opHuge flagHuge in the flags.
const (
	opFresh  = 'n' // map the block, read it, unmap it
	opWarm   = 'w' // read the block through the mapping kept from the last opWarm, mapping it the first time
	opForget = 'f' // unmap every kept block
	opHuge   = 'h' // is the block's data mapped with huge pages (kept mapping, or else a fresh one)?
	opCopy   = 'c' // read the payload, received into a buffer the peer keeps

	hdrLen   = 10
	replyLen = 10
	flagHuge = 1
)

// A peer is the state of one Serve: the receive buffer and the blocks it
// keeps mapped for opWarm.
type peer struct {
	buf  []byte
	kept map[string]*ndshm.Block
}

// Serve answers requests on conn until it closes. It is the peer's whole
// life: call it from the re-executed process with the socket it was
// given as fd 3.
func Serve(conn io.ReadWriter) error {
	p := &peer{kept: map[string]*ndshm.Block{}}
	defer p.forget()
	var hdr [hdrLen]byte
	for {
		spin(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := binary.LittleEndian.Uint64(hdr[2:])
		if n > 1<<40 {
			return fmt.Errorf("handoff: request of %d bytes", n)
		}
		if uint64(cap(p.buf)) < n {
			p.buf = make([]byte, n)
		}
		if _, err := io.ReadFull(conn, p.buf[:n]); err != nil {
			return err
		}
		var reply [replyLen]byte
		if v, flags, err := p.answer(hdr[0], Read(hdr[1]), p.buf[:n]); err != nil {
			reply[0] = 1
		} else {
			reply[1] = flags
			binary.LittleEndian.PutUint64(reply[2:], v)
		}
		if _, err := conn.Write(reply[:]); err != nil {
			return err
		}
	}
}

// answer does one request and returns what it read, so that the work
// cannot be skipped, and the reply's flags.
func (p *peer) answer(op byte, r Read, payload []byte) (uint64, byte, error) {
	switch op {
	case opCopy:
		return r.of(payload), 0, nil
	case opFresh:
		b, err := ndshm.Open(string(payload))
		if err != nil {
			return 0, 0, err
		}
		defer b.Close()
		return r.of(b.Bytes()), 0, nil
	case opWarm:
		b, err := p.warm(string(payload))
		if err != nil {
			return 0, 0, err
		}
		return r.of(b.Bytes()), 0, nil
	case opForget:
		return 0, 0, p.forget()
	case opHuge:
		return p.huge(string(payload))
	}
	return 0, 0, fmt.Errorf("handoff: unknown op %q", op)
}

// warm returns the block name as kept mapped, mapping it the first time.
func (p *peer) warm(name string) (*ndshm.Block, error) {
	if b, ok := p.kept[name]; ok {
		return b, nil
	}
	b, err := ndshm.Open(name)
	if err != nil {
		return nil, err
	}
	p.kept[name] = b
	return b, nil
}

// huge reads all of the block name, through its kept mapping or else a
// fresh one, and says whether the kernel mapped its data with huge
// pages. It is not timed: reading smaps takes longer than a hand-off.
func (p *peer) huge(name string) (uint64, byte, error) {
	b, ok := p.kept[name]
	if !ok {
		var err error
		if b, err = ndshm.Open(name); err != nil {
			return 0, 0, err
		}
		defer b.Close()
	}
	d := b.Bytes()
	sum := All.of(d)
	huge, err := HugeMapped(d)
	if err != nil || !huge {
		return sum, 0, err
	}
	return sum, flagHuge, nil
}

// forget unmaps every kept block.
func (p *peer) forget() error {
	var errs []error
	for name, b := range p.kept {
		errs = append(errs, b.Close())
		delete(p.kept, name)
	}
	return errors.Join(errs...)
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
