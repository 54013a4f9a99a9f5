package flight

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/ndshm/ndshm"
)

// DialOptions adjust Dial.
type DialOptions struct {
	// TLS, if set, makes the client speak TLS (the server's name and
	// certificate authority are TLS.ServerName and TLS.RootCAs).
	// Without it the client refuses to dial anything but a loopback
	// address unless Insecure is set.
	TLS      *tls.Config
	Insecure bool

	Token string // the server's bearer token, sent with every call
	Chunk int    // Push's most data bytes per batch; 0 means DefaultChunk
}

// A Client talks to one Flight server over one gRPC connection, which
// its calls share. It is safe for concurrent use.
type Client struct {
	conn  *grpc.ClientConn
	svc   flight.FlightServiceClient
	chunk int
}

// Dial returns a client of the Flight server at addr (host:port).
// It connects lazily: the first call reports an unreachable server.
func Dial(addr string, o DialOptions) (*Client, error) {
	if o.TLS == nil && !o.Insecure && !loopback(addr) {
		return nil, fmt.Errorf("flight: %s is not a loopback address: dial it with TLS, or allow plaintext explicitly (insecure)", addr)
	}
	if o.Chunk < 0 || o.Chunk > maxChunk {
		return nil, fmt.Errorf("flight: chunk of %d bytes: want 1..%d", o.Chunk, maxChunk)
	}
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		creds = credentials.NewTLS(o.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)),
		grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window),
		grpc.WithWriteBufferSize(bufSize), grpc.WithReadBufferSize(bufSize),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
	}
	if o.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(o.Token)))
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("flight: dial %s: %w", addr, err)
	}
	c := &Client{conn: conn, svc: flight.NewFlightServiceClient(conn), chunk: o.Chunk}
	if c.chunk == 0 {
		c.chunk = DefaultChunk
	}
	return c, nil
}

// Close closes the connection; calls in progress fail.
func (c *Client) Close() error { return c.conn.Close() }

// Service returns the client's Flight service stub, for calls this
// package does not wrap (a ring's stream, say). It shares the client's
// connection, token and limits, and is valid until Close.
func (c *Client) Service() flight.FlightServiceClient { return c.svc }

// Info describes the remote block name as the server's ndshm.Stat does
// (Users are the server host's pids).
func (c *Client) Info(ctx context.Context, name string) (ndshm.Info, error) {
	fi, err := c.svc.GetFlightInfo(ctx, Descriptor(name))
	if err != nil {
		return ndshm.Info{}, fromStatus(err)
	}
	var in ndshm.Info
	if err := json.Unmarshal(fi.GetAppMetadata(), &in); err != nil {
		return ndshm.Info{}, fmt.Errorf("flight: info %s: %w: %v", name, ErrStream, err)
	}
	return in, nil
}

// List describes the server's blocks, as List does there.
func (c *Client) List(ctx context.Context) ([]ndshm.Info, error) {
	s, err := c.svc.ListFlights(ctx, &flight.Criteria{})
	if err != nil {
		return nil, fromStatus(err)
	}
	var out []ndshm.Info
	for {
		fi, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fromStatus(err)
		}
		var in ndshm.Info
		if err := json.Unmarshal(fi.GetAppMetadata(), &in); err != nil {
			return out, fmt.Errorf("flight: list: %w: %v", ErrStream, err)
		}
		out = append(out, in)
	}
}
