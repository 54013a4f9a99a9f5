package flight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"

	"github.com/ndshm/ndshm"
)

// Pull copies the remote block into the new local block named local
// (as ndshm.Create does, with opts: Persistent to outlive the returned
// Block) and returns it open. Each batch is copied once, from gRPC's
// message straight into the block's shared memory; the block gets its
// name only when all of its bytes have arrived, so a transfer that
// fails, or a process that dies, leaves no block. The caller owns the
// returned Block.
func (c *Client) Pull(ctx context.Context, remote, local string, opts ...ndshm.Option) (*ndshm.Block, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if we stop reading early
	s, err := c.svc.DoGet(ctx, &flight.Ticket{Ticket: Ticket{KindBlock, remote}.Bytes()}, grpc.ForceCodecV2(newCodec()))
	if err != nil {
		return nil, pathErr("pull", remote, fromStatus(err))
	}
	fr, err := flight.NewRecordReader(clipped{s})
	if err != nil {
		return nil, pathErr("pull", remote, fromStatus(err))
	}
	v, err := newReceiver(fr)
	if err != nil {
		fr.Release()
		return nil, pathErr("pull", remote, fromStatus(err))
	}
	defer v.close()
	b, err := ndshm.LoadReader(v, local, opts...)
	if err != nil {
		return nil, pathErr("pull", remote, fromStatus(v.explain(err)))
	}
	return b, nil
}

// Push copies the block b to the server as its new block remote, which
// the server publishes only once all of it has arrived. The batches
// alias b's memory: keep b open (Push does not close it). It fails with
// fs.ErrExist if the server has a block of that name.
func (c *Client) Push(ctx context.Context, b *ndshm.Block, remote string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.svc.DoPut(ctx)
	if err != nil {
		return pathErr("push", remote, fromStatus(err))
	}
	if err := send(s, b.Spec(), b.Bytes(), c.chunk, Descriptor(remote)); err != nil {
		return pathErr("push", remote, pushErr(s, err))
	}
	if err := s.CloseSend(); err != nil {
		return pathErr("push", remote, pushErr(s, err))
	}
	res, err := s.Recv() // the server's verdict: its PutResult, or its error
	if err != nil {
		return pathErr("push", remote, fromStatus(err))
	}
	var pr putResult
	if err := json.Unmarshal(res.GetAppMetadata(), &pr); err != nil || pr.SizeBytes != int64(b.Spec().Size()) {
		return pathErr("push", remote, fmt.Errorf("%w: put result %.64q", ErrStream, res.GetAppMetadata()))
	}
	return nil
}

// pushErr returns the server's reason for a send that failed: gRPC
// reports a stream the server ended as io.EOF on Send, and the status
// on Recv. Any other error is this side's own (a block that cannot be
// sent): the server still waits, so it is returned as it is, and Push's
// cancel ends the stream.
func pushErr(s flight.FlightService_DoPutClient, err error) error {
	if !errors.Is(err, io.EOF) {
		return fromStatus(err)
	}
	if _, rerr := s.Recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
		return fromStatus(rerr)
	}
	return fromStatus(err)
}
