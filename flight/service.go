package flight

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ndshm/ndshm"
)

// service is the Flight service of a Server.
type service struct {
	flight.BaseFlightServer
	s *Server
}

// nameOf returns the block name of a PATH descriptor of one element.
func nameOf(d *flight.FlightDescriptor) (string, error) {
	if d == nil || d.Type != flight.DescriptorPATH || len(d.Path) != 1 || d.Path[0] == "" {
		return "", fmt.Errorf("%w: want a PATH descriptor of one block name", ErrStream)
	}
	return d.Path[0], nil
}

// Descriptor returns the Flight descriptor of the block name.
func Descriptor(name string) *flight.FlightDescriptor {
	return &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{name}}
}

func (v *service) ListFlights(_ *flight.Criteria, w flight.FlightService_ListFlightsServer) error {
	infos, err := ndshm.List(ndshm.UsersWithin(time.Second))
	if err != nil {
		return v.fail("list", err)
	}
	for _, in := range infos {
		fi, err := v.s.info(in.Name)
		if err != nil {
			continue // gone, or not ours to read: leave it out
		}
		if err := w.Send(fi); err != nil {
			return err
		}
	}
	return nil
}

func (v *service) GetFlightInfo(_ context.Context, d *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	name, err := nameOf(d)
	if err != nil {
		return nil, v.fail("info", err)
	}
	fi, err := v.s.info(name)
	return fi, v.fail("info "+name, err)
}

// info describes the block name: its schema, one endpoint on this
// server, and its ndshm.Info as JSON in app_metadata.
func (s *Server) info(name string) (*flight.FlightInfo, error) {
	b, err := ndshm.Open(name, ndshm.ReadOnly())
	if err != nil {
		return nil, err
	}
	defer b.Close()
	l, err := newLayout(b.Spec(), s.chunk())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	meta, err := json.Marshal(b.Info())
	if err != nil {
		return nil, err
	}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(l.schema(), memory.DefaultAllocator),
		FlightDescriptor: Descriptor(name),
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: Ticket{KindBlock, name}.Bytes()}}},
		TotalRecords:     int64(l.rows),
		TotalBytes:       int64(b.Spec().Size()),
		Ordered:          true,
		AppMetadata:      meta,
	}, nil
}

func (v *service) DoGet(t *flight.Ticket, w flight.FlightService_DoGetServer) error {
	tk, err := ParseTicket(t.GetTicket())
	if err != nil {
		return v.fail("get", fmt.Errorf("%w: %v", ErrStream, err))
	}
	if tk.Kind != KindBlock {
		get, ok := v.s.Get[tk.Kind]
		if !ok {
			return v.fail("get", fmt.Errorf("ticket kind %q: %w", tk.Kind, fs.ErrNotExist))
		}
		return v.fail("get "+tk.Kind+" "+tk.Name, get(w.Context(), tk.Name, w))
	}
	b, err := ndshm.Open(tk.Name, ndshm.ReadOnly())
	if err != nil {
		return v.fail("get", err)
	}
	defer b.Close()
	return v.fail("get "+tk.Name, send(w, b.Spec(), b.Bytes(), v.s.chunk(), nil))
}

func (v *service) DoPut(r flight.FlightService_DoPutServer) error {
	name, err := v.s.put(r)
	if err != nil {
		return v.fail("put "+name, err)
	}
	v.s.logf("flight: put %s", name)
	return nil
}

// fail logs a failed call and returns its gRPC status.
func (v *service) fail(what string, err error) error {
	if err == nil {
		return nil
	}
	v.s.logf("flight: %s: %v", what, err)
	return toStatus(err)
}
