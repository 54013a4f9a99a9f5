package flight

import (
	"net"
	"strings"
)

// gRPC settings both sides use. HTTP/2 flow-control windows are fixed,
// not auto-tuned: gRPC-Go's BDP estimator stops at 4 MiB, which caps
// throughput on fast links and does not exceed a batch.
const (
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
