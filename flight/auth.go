package flight

import (
	"context"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// authorize checks the bearer token of the call in ctx, if the server
// wants one, in constant time.
func (s *Server) authorize(ctx context.Context) error {
	if s.Token == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		tok, ok := strings.CutPrefix(v, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.Token)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "flight: missing or wrong bearer token")
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (_ any, err error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	defer s.recover(info.FullMethod, &err)
	return h(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	if err := s.authorize(ss.Context()); err != nil {
		return err
	}
	defer s.recover(info.FullMethod, &err)
	return h(srv, ss)
}

// recover turns a panic of a call's handler into an Internal error of
// that call: arrow-go panics on some malformed IPC messages, and a peer
// must not crash the server (gRPC does not recover handlers).
func (s *Server) recover(method string, err *error) {
	if p := recover(); p != nil {
		s.logf("flight: %s panicked: %v", method, p)
		*err = status.Errorf(codes.Internal, "flight: %s: %v", method, p)
	}
}

// bearer is the client's per-call credential: the token in the
// "authorization" metadata. It does not itself demand TLS: Dial applies
// the same loopback rule as the server instead.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }
