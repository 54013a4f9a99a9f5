package flight

import (
	"net"
	"strings"
	"time"
)

// gRPC settings both sides use. HTTP/2 flow-control windows are fixed,
// not auto-tuned: gRPC-Go's BDP estimator stops at 4 MiB, which caps
// throughput on fast links and does not exceed a batch.
const (
	// A peer that stops answering (a host that lost power, a cut
	// link: nothing resets the connection) is found by HTTP/2 pings
	// after keepaliveTime of silence, and dropped keepaliveTimeout
	// later, which fails its transfers: a DoPut then publishes nothing.
	keepaliveTime    = 20 * time.Second
	keepaliveTimeout = 10 * time.Second

	maxMessage = maxChunk + 1<<20 // a batch and its headers
	window     = 16 << 20         // per stream and per connection
	bufSize    = 1 << 20          // the transport's read and write buffers
)

// loopback reports whether the host of addr (host:port) is a loopback
// address or "localhost". An empty host (all interfaces) is not.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
