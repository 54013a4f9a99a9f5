package flight

import (
	"fmt"
	"net/url"
	"strings"
)

// A URL locates a server, and perhaps a block on it, as Arrow Flight
// writes locations: grpc://HOST:PORT/NAME (also grpc+tcp://) for
// plaintext, grpc+tls://HOST:PORT/NAME for TLS.
type URL struct {
	Addr string // host:port
	TLS  bool
	Name string // "" when the URL names none
}

// ParseURL parses s as a URL.
func ParseURL(s string) (URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return URL{}, err
	}
	var out URL
	switch u.Scheme {
	case "grpc", "grpc+tcp":
	case "grpc+tls":
		out.TLS = true
	default:
		return URL{}, fmt.Errorf("%s: want grpc://HOST:PORT/NAME or grpc+tls://HOST:PORT/NAME", s)
	}
	if u.Port() == "" || u.Hostname() == "" || u.RawQuery != "" || u.User != nil {
		return URL{}, fmt.Errorf("%s: want grpc://HOST:PORT/NAME or grpc+tls://HOST:PORT/NAME", s)
	}
	out.Addr = u.Host
	out.Name = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(out.Name, "/") {
		return URL{}, fmt.Errorf("%s: block name %q holds a slash", s, out.Name)
	}
	return out, nil
}

// String returns the URL as ParseURL reads it.
func (u URL) String() string {
	scheme := "grpc"
	if u.TLS {
		scheme = "grpc+tls"
	}
	return scheme + "://" + u.Addr + "/" + u.Name
}
