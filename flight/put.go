package flight

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/ndshm/ndshm"
)

// putResult is the app_metadata of DoPut's one PutResult.
type putResult struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
}

// put reads a DoPut stream into a new block named by its descriptor.
// The block is published only once the stream has ended after exactly
// the bytes its header describes; a stream that breaks off or lies
// leaves nothing.
func (s *Server) put(r flight.FlightService_DoPutServer) (string, error) {
	fr, err := flight.NewRecordReader(clipped{r})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrStream, err)
	}
	name, err := nameOf(fr.LatestFlightDescriptor())
	if err != nil {
		fr.Release()
		return "", err
	}
	if _, err := ndshm.Stat(name); err == nil {
		fr.Release()
		return name, &fs.PathError{Op: "put", Path: name, Err: fs.ErrExist}
	}
	v, err := newReceiver(fr)
	if err != nil {
		fr.Release()
		return name, err
	}
	defer v.close()
	if s.MaxPut > 0 && v.size > s.MaxPut {
		return name, fmt.Errorf("put %s: %d bytes, over the server's bound of %d: %w", name, v.size, s.MaxPut, syscall.ENOSPC)
	}
	if err := s.load(name, v); err != nil {
		return name, v.explain(err)
	}
	res, _ := json.Marshal(putResult{Name: name, SizeBytes: v.size})
	return name, r.Send(&flight.PutResult{AppMetadata: res})
}
