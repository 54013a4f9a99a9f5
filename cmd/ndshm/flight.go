package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/specflag"
)

const pullAbout = `
Copies the block NAME of the Arrow Flight server at HOST:PORT (ndshm
serve --flight) into the new persistent block LOCAL (default NAME) on
this host, straight into shared memory: NumPy then attaches it with
np.load('/dev/shm/LOCAL', mmap_mode='r+'). LOCAL appears only once all of
its bytes have arrived: if the transfer fails or is interrupted there is
no block. grpc+tls:// speaks TLS; plaintext grpc:// is refused to a
non-loopback host unless --insecure. docs/FLIGHT.md has the details.

Prints nothing, or with --json the new block as inspect --json does.`

const pushAbout = `
Copies the local block NAME to the Arrow Flight server at HOST:PORT as its
new block REMOTE (default NAME), which the server publishes only once all
of its bytes have arrived; a name the server already has is refused.
The URL and the flags are pull's.

Prints nothing, or with --json {"name","url","size_bytes","seconds","bytes_per_s"}.`

// clientFlags are pull's and push's connection flags.
type clientFlags struct {
	ca       *string
	token    *string
	insecure *bool
}

func newClientFlags(f *cmdflag.Set) clientFlags {
	return clientFlags{
		ca:       f.String("ca", "", "trust the certificate authority in `FILE` (PEM) for grpc+tls:// (default: the system's)"),
		token:    f.String("token", "", "send the bearer `TOKEN` the server wants; empty: $NDSHM_FLIGHT_TOKEN, if set"),
		insecure: f.Bool("insecure", false, "allow plaintext grpc:// to a host that is not loopback"),
	}
}

// dial connects to the server of u.
func (c clientFlags) dial(u flight.URL) (*flight.Client, error) {
	o := flight.DialOptions{Token: tokenOr(*c.token), Insecure: *c.insecure}
	if u.TLS {
		o.TLS = &tls.Config{}
		if *c.ca != "" {
			pem, err := os.ReadFile(*c.ca)
			if err != nil {
				return nil, err
			}
			o.TLS.RootCAs = x509.NewCertPool()
			if !o.TLS.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", *c.ca)
			}
		}
	}
	return flight.Dial(u.Addr, o)
}

// runPull is `ndshm pull`.
func runPull(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "pull", "pull grpc://HOST:PORT/NAME [LOCAL] [--token TOKEN] [--ca FILE] [--insecure] [--mode 0600] [--json]", pullAbout)
	cf := newClientFlags(f)
	var mode specflag.Mode
	f.Var(&mode, "mode", specflag.ModeUsage)
	asJSON := f.Bool("json", false, "print the new block's description as JSON")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		pos = append(pos, "")
	}
	if err := f.Want(pos, "URL", "LOCAL"); err != nil {
		return err
	}
	u, err := flight.ParseURL(pos[0])
	if err == nil && u.Name == "" {
		err = fmt.Errorf("%s names no block", pos[0])
	}
	if err != nil {
		return f.UsageErr("%v", err)
	}
	local := blockName(pos[1])
	if local == "" {
		local = u.Name
	}
	c, err := cf.dial(u)
	if err != nil {
		return err
	}
	defer c.Close()
	b, err := c.Pull(ctx, u.Name, local, append(mode.Opts(), ndshm.Persistent())...)
	if err != nil {
		return err
	}
	if err := mode.Apply(b); err != nil {
		remove(b)
		return err
	}
	return closeMade(e, b, *asJSON)
}

// pushed is push --json's object.
type pushed struct {
	Name      string  `json:"name"`
	URL       string  `json:"url"`
	SizeBytes int     `json:"size_bytes"`
	Seconds   float64 `json:"seconds"`
	BytesPerS float64 `json:"bytes_per_s"`
}

// runPush is `ndshm push`.
func runPush(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "push", "push NAME grpc://HOST:PORT[/REMOTE] [--token TOKEN] [--ca FILE] [--insecure] [--json]", pushAbout)
	cf := newClientFlags(f)
	asJSON := f.Bool("json", false, `print {"name","url","size_bytes","seconds","bytes_per_s"}`)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME", "URL"); err != nil {
		return err
	}
	u, err := flight.ParseURL(pos[1])
	if err != nil {
		return f.UsageErr("%v", err)
	}
	name := blockName(pos[0])
	if u.Name == "" {
		u.Name = name
	}
	b, err := ndshm.Open(name, ndshm.ReadOnly())
	if err != nil {
		return err
	}
	defer b.Close()
	c, err := cf.dial(u)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	if err := c.Push(ctx, b, u.Name); err != nil {
		return err
	}
	if !*asJSON {
		return nil
	}
	s := time.Since(start).Seconds()
	n := b.Spec().Size()
	return describe.WriteJSON(e.stdout, pushed{Name: name, URL: u.String(), SizeBytes: n, Seconds: s, BytesPerS: float64(n) / s})
}

// flightServe is serve's --flight flags.
type flightServe struct {
	addr, cert, key, token *string
	insecure               *bool
}

func newFlightServe(f *cmdflag.Set) flightServe {
	return flightServe{
		addr:     f.String("flight", "", "also serve the blocks over Arrow Flight on `HOST:PORT` (docs/FLIGHT.md); empty: no"),
		cert:     f.String("flight-tls-cert", "", "speak TLS on --flight with the certificate in `FILE` (PEM); empty: plaintext"),
		key:      f.String("flight-tls-key", "", "the private key of --flight-tls-cert, in `FILE` (PEM)"),
		token:    f.String("flight-token", "", "require the bearer `TOKEN` of every Flight call; empty: $NDSHM_FLIGHT_TOKEN, if set, else none"),
		insecure: f.Bool("flight-insecure", false, "allow plaintext --flight on an address that is not loopback"),
	}
}

// server returns the Flight server the flags describe, or nil for none.
func (fs flightServe) server(load func(string, io.Reader) error, logf func(string, ...any)) (*flight.Server, error) {
	if *fs.addr == "" {
		if *fs.cert != "" || *fs.key != "" {
			return nil, errors.New("--flight-tls-cert and --flight-tls-key need --flight")
		}
		return nil, nil
	}
	s := &flight.Server{Token: tokenOr(*fs.token), Insecure: *fs.insecure, Load: load, Logf: logf}
	flight.ServeRings(s) // DoGet of rings: ndshm mirror
	if (*fs.cert == "") != (*fs.key == "") {
		return nil, errors.New("--flight-tls-cert and --flight-tls-key go together")
	}
	if *fs.cert != "" {
		cert, err := tls.LoadX509KeyPair(*fs.cert, *fs.key)
		if err != nil {
			return nil, fmt.Errorf("flight TLS: %w", err)
		}
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	return s, nil
}

// tokenOr returns the token flag's value, or $NDSHM_FLIGHT_TOKEN when it
// is empty: the environment keeps a token out of ps and shell history,
// and out of the help, which would print a flag default.
func tokenOr(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv("NDSHM_FLIGHT_TOKEN")
}
