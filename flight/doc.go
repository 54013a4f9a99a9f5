// Package flight serves ndshm blocks to other hosts, and fetches theirs,
// over Apache Arrow Flight (gRPC), so that any Flight client (pyarrow,
// the C++, Java and Rust clients) reads them, and ndshm peers land them
// straight in shared memory. docs/FLIGHT.md describes the endpoints,
// tickets and the schema of a block's stream.
//
// A Server serves the host's block directory; `ndshm serve --flight`
// runs one. A Client, from Dial, lists and describes a server's blocks,
// Pulls a remote block into a new local named block and Pushes a local
// block to a server. In both directions a block is published under its
// name only once all of its bytes arrived: a transfer that fails or a
// peer that dies leaves no half-written block.
//
// Plaintext is allowed only to and from loopback addresses unless asked
// for (Server.Insecure, DialOptions.Insecure); otherwise use TLS. A
// bearer token (Server.Token, DialOptions.Token) guards every call.
//
// The core packages of ndshm do not depend on this one, nor on Arrow or
// gRPC.
package flight
