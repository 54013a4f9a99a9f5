package flight

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/ndshm/ndshm"
)

// DefaultChunk is the most data bytes a record batch carries by default.
const DefaultChunk = 4 << 20

// maxChunk bounds Chunk, and with it every message either side accepts.
const maxChunk = 32 << 20

// A GetFunc answers DoGet for tickets of one kind (Server.Get): it sends
// the stream named by name to w and returns when it is done or ctx ends.
type GetFunc func(ctx context.Context, name string, w flight.FlightService_DoGetServer) error

// A Server serves the blocks of this host's block directory ($NDSHM_DIR,
// default /dev/shm) as Arrow Flight endpoints (docs/FLIGHT.md):
// ListFlights and GetFlightInfo describe them, DoGet streams one,
// DoPut makes a new block from a stream. Set its fields before Serve and
// leave them alone after. Blocks a DoGet reads are opened for its time
// only; a DoPut's block is published only once all its bytes arrived.
type Server struct {
	// TLS, if set, makes the server speak TLS only. Without it the
	// server refuses to listen on anything but a loopback address
	// unless Insecure is set.
	TLS      *tls.Config
	Insecure bool

	// Token, if set, is required of every call as the bearer token in
	// its "authorization" metadata ("Bearer TOKEN"); other calls fail
	// with codes.Unauthenticated.
	Token string

	// Chunk bounds the data bytes in one record batch (whole rows;
	// single elements when one row is larger); 0 means DefaultChunk.
	Chunk int

	// Load makes the named block from a .npy stream, publishing it
	// only once complete (as ndshm.LoadReader does) and failing with
	// fs.ErrExist if the name is taken. DoPut calls it. nil means a
	// persistent block made by ndshm.LoadReader, which outlives the
	// server; `ndshm serve --flight` passes its server's Load, so that
	// pushed blocks are the server's own.
	Load func(name string, r io.Reader) error

	// MaxPut, if positive, bounds the data bytes of a block DoPut
	// makes: a larger one is refused (ResourceExhausted) before any
	// memory is reserved for it.
	MaxPut int64

	// Get holds DoGet's handlers for ticket kinds other than KindBlock,
	// such as KindRing. A ticket of any other kind is NotFound.
	Get map[string]GetFunc

	// Logf, if set, logs each call that fails and each DoPut.
	Logf func(format string, args ...any)
}

// ListenAndServe listens on the TCP address addr and serves on it
// until ctx ends (Serve).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := s.Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Listen listens on the TCP address addr for Serve, after checking
// that s may serve there: plaintext only on loopback unless Insecure.
func (s *Server) Listen(addr string) (net.Listener, error) {
	if err := s.checkAddr(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

// Serve serves Flight calls on ln until ctx ends, then stops: calls
// still running get a second to finish and are cancelled after it.
// It closes ln. Plaintext on a non-loopback address fails unless
// s.Insecure.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.checkAddr(ln.Addr().String()); err != nil && ln.Addr().Network() != "unix" {
		ln.Close()
		return err
	}
	if s.Chunk < 0 || s.Chunk > maxChunk {
		ln.Close()
		return fmt.Errorf("flight: chunk of %d bytes: want 1..%d", s.Chunk, maxChunk)
	}
	g := grpc.NewServer(s.options()...)
	flight.RegisterFlightServiceServer(g, &service{s: s})
	stop := context.AfterFunc(ctx, func() { shutdown(g) })
	defer stop()
	err := g.Serve(ln)
	if errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	shutdown(g)
	return err
}

// shutdown stops g gracefully, and forcibly after a second.
func shutdown(g *grpc.Server) {
	t := time.AfterFunc(time.Second, g.Stop)
	defer t.Stop()
	g.GracefulStop()
}

// checkAddr refuses plaintext on a non-loopback address.
func (s *Server) checkAddr(addr string) error {
	if s.TLS != nil || s.Insecure || loopback(addr) {
		return nil
	}
	return fmt.Errorf("flight: %s is not a loopback address: serve it with TLS (a certificate and key), or allow plaintext explicitly (insecure)", addr)
}

func (s *Server) options() []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
		grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window),
		grpc.WriteBufferSize(bufSize), grpc.ReadBufferSize(bufSize),
		grpc.ChainUnaryInterceptor(s.unaryAuth), grpc.ChainStreamInterceptor(s.streamAuth),
		grpc.ForceServerCodecV2(newCodec()),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2}),
	}
	if s.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.TLS)))
	}
	return opts
}

func (s *Server) chunk() int {
	if s.Chunk == 0 {
		return DefaultChunk
	}
	return s.Chunk
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// load is DoPut's publisher.
func (s *Server) load(name string, r io.Reader) error {
	if s.Load != nil {
		return s.Load(name, r)
	}
	b, err := ndshm.LoadReader(r, name, ndshm.Persistent())
	if err != nil {
		return err
	}
	return b.Close()
}
