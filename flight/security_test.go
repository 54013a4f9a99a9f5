package flight_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
)

func TestToken(t *testing.T) {
	addr := serve(t, &flight.Server{Token: "s3cret"})
	src := create(t, ndshm.Spec{DType: ndshm.Int32, Shape: []int{3}})
	ctx := context.Background()
	for _, tok := range []string{"", "wrong", "s3cret"} {
		c := dial(t, addr, flight.DialOptions{Token: tok})
		_, err := c.Info(ctx, src.Name())
		var fe *flight.Error
		switch {
		case tok == "s3cret" && err != nil:
			t.Errorf("right token: %v", err)
		case tok != "s3cret" && (!errors.As(err, &fe) || fe.Code != codes.Unauthenticated):
			t.Errorf("token %q: %v, want Unauthenticated", tok, err)
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ndshm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	addr := serve(t, &flight.Server{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Token: "t"})
	src := create(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{1000, 10}})
	ctx := context.Background()
	c := dial(t, addr, flight.DialOptions{TLS: &tls.Config{RootCAs: pool}, Token: "t"})
	b, err := c.Pull(ctx, src.Name(), src.Name()+"-tls")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if string(b.Bytes()) != string(src.Bytes()) {
		t.Error("bytes differ over TLS")
	}
	plain := dial(t, addr, flight.DialOptions{Token: "t"})
	if _, err := plain.Info(ctx, src.Name()); err == nil {
		t.Error("a plaintext client talked to a TLS server")
	}
	untrusting := dial(t, addr, flight.DialOptions{TLS: &tls.Config{}, Token: "t"})
	if _, err := untrusting.Info(ctx, src.Name()); err == nil {
		t.Error("a client that does not trust the certificate talked to the server")
	}
}

// nonLoopback returns an address of this host that is not loopback, or
// skips: the refusal is decided from the address before listening.
func nonLoopback(t *testing.T) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return net.JoinHostPort(n.IP.String(), "0")
		}
	}
	return "0.0.0.0:0"
}

func TestPlaintextOnlyOnLoopback(t *testing.T) {
	addr := nonLoopback(t)
	err := (&flight.Server{}).ListenAndServe(context.Background(), addr)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("plaintext server on %s: %v, want a refusal", addr, err)
	}
	if _, err := flight.Dial("198.18.0.1:1", flight.DialOptions{}); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("plaintext dial of 198.18.0.1: %v, want a refusal", err)
	}
	if c, err := flight.Dial("198.18.0.1:1", flight.DialOptions{Insecure: true}); err != nil {
		t.Errorf("insecure dial: %v", err)
	} else {
		c.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&flight.Server{Insecure: true}).ListenAndServe(ctx, "0.0.0.0:0") }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("insecure server on 0.0.0.0: %v", err)
	}
}
