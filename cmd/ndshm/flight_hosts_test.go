package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// flightPort is where every test's serve --flight listens: each host is
// a network namespace of its own, so tests cannot collide on it.
const flightPort = "7815"

// A flightServer is `ndshm serve --flight` running in a host.
type flightServer struct {
	cmd  *exec.Cmd
	addr string // host:port of its Flight endpoint
	mu   sync.Mutex
	log  bytes.Buffer // its stderr
	done chan struct{}
}

// startFlight runs `ndshm serve --flight` with extra flags in h, on
// h's address, until the test ends (SIGINT, then SIGKILL after 10 s).
func startFlight(t *testing.T, h *hosts.Host, extra ...string) *flightServer {
	t.Helper()
	addr := net.JoinHostPort(h.Addr.String(), flightPort)
	args := append([]string{"serve", "--socket", filepath.Join(t.TempDir(), "s.sock"),
		"--gc-interval", "0", "--flight", addr}, extra...)
	s := &flightServer{cmd: h.Enter(shmtest.Command("ndshm", args...)), addr: addr, done: make(chan struct{})}
	s.cmd.Stderr = nil
	errPipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	ready := make(chan bool, 1)
	go func() { // reads its log until it ends, which must not block it
		defer close(s.done)
		r, seen := bufio.NewReader(errPipe), false
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.log.WriteString(line)
			s.mu.Unlock()
			if !seen && (err != nil || strings.Contains(line, "flight on ")) {
				seen = true
				ready <- err == nil
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case ok := <-ready:
		if ok {
			return s
		}
	case <-time.After(30 * time.Second):
	}
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("serve --flight in %s did not serve:\n%s", h.Name, s.log.String())
	return nil
}

// stop ends the server, if it still runs, and reaps it.
func (s *flightServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	t := time.AfterFunc(10*time.Second, func() { s.cmd.Process.Kill() })
	defer t.Stop()
	<-s.done
	s.cmd.Wait()
}

// kill kills the server with SIGKILL and reaps it.
func (s *flightServer) kill() {
	s.cmd.Process.Kill()
	<-s.done
	s.cmd.Wait()
}

// inHost runs the ndshm command line args in h and returns its output.
func inHost(t *testing.T, h *hosts.Host, args ...string) (string, error) {
	t.Helper()
	cmd := h.Enter(shmtest.Command("ndshm", args...))
	cmd.Stderr = nil
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustInHost is inHost for a command that must succeed.
func mustInHost(t *testing.T, h *hosts.Host, args ...string) string {
	t.Helper()
	out, err := inHost(t, h, args...)
	if err != nil {
		t.Fatalf("ndshm %s in %s: %v\n%s", strings.Join(args, " "), h.Name, err, out)
	}
	return out
}

// hashScript prints a block's dtype, shape, order and the SHA-256 of its
// data in memory order, as NumPy on the host reads /dev/shm/NAME; and
// "attach ok" if ndshm.attach sees the same array.
const hashScript = `
import hashlib, sys
import numpy as np
import ndshm
a = np.load('/dev/shm/' + sys.argv[1], mmap_mode='r')
print(a.dtype.str, a.shape, np.isfortran(a), hashlib.sha256(a.tobytes(order='A')).hexdigest())
b = ndshm.attach(sys.argv[1], readonly=True)
print('attach ok' if b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b, equal_nan=True) else 'attach differs')
`

// numpyHash runs hashScript on the block name in h.
func numpyHash(t *testing.T, h *hosts.Host, name string) string {
	t.Helper()
	out, err := h.Enter(shmtest.PythonCommand(t, "-c", hashScript, name)).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy in %s on %s: %v\n%s", h.Name, name, err, out)
	}
	return string(out)
}

// saveRandom writes a .npy file of random float32s in Fortran order, and
// one of random int16s in C order, with NumPy, and returns their paths.
func saveRandom(t *testing.T) (f4, i2 string) {
	t.Helper()
	dir := t.TempDir()
	f4, i2 = filepath.Join(dir, "f4.npy"), filepath.Join(dir, "i2.npy")
	script := `
import sys
import numpy as np
g = np.random.default_rng(13)
np.save(sys.argv[1], np.asfortranarray(g.standard_normal((301, 517, 3)).astype('<f4')))
np.save(sys.argv[2], g.integers(-2**15, 2**15, size=(1000, 1001), dtype='<i2').astype('>i2'))
`
	if out, err := shmtest.PythonCommand(t, "-c", script, f4, i2).CombinedOutput(); err != nil {
		t.Fatalf("np.save: %v\n%s", err, out)
	}
	return f4, i2
}

// shmEntries lists h's /dev/shm.
func shmEntries(t *testing.T, h *hosts.Host) []string {
	t.Helper()
	out, err := h.Command(context.Background(), "ls", "-A", "/dev/shm").Output()
	if err != nil {
		t.Fatalf("ls /dev/shm in %s: %v", h.Name, err)
	}
	return strings.Fields(string(out))
}

// shmUsed returns the bytes used in h's /dev/shm, files with no name
// included.
func shmUsed(t *testing.T, h *hosts.Host) int64 {
	t.Helper()
	out, err := h.Command(context.Background(), "stat", "-f", "-c", "%b %f %S", "/dev/shm").Output()
	if err != nil {
		t.Fatalf("stat -f /dev/shm in %s: %v", h.Name, err)
	}
	var total, free, size int64
	if _, err := fmt.Sscan(string(out), &total, &free, &size); err != nil {
		t.Fatalf("stat -f printed %q: %v", out, err)
	}
	return (total - free) * size
}

// waitUsed waits until h's /dev/shm holds at least n bytes, which is
// how far a transfer into it got.
func waitUsed(t *testing.T, h *hosts.Host, n int64, what string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); shmUsed(t, h) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s's /dev/shm did not reach %d bytes in 60s", what, h.Name, n)
		}
	}
}

// selfSignedFiles writes a self-signed certificate for ip and its key as
// PEM files and returns their paths.
func selfSignedFiles(t *testing.T, ip net.IP) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ndshm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{ip}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []struct {
		path, typ string
		der       []byte
	}{{cert, "CERTIFICATE", der}, {key, "EC PRIVATE KEY", kder}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key
}

// bigBlock makes the persistent block name of n bytes, every one 7, in h.
func bigBlock(t *testing.T, h *hosts.Host, name string, n int64) {
	t.Helper()
	mustInHost(t, h, "create", name, "--dtype", "u1", "--shape", strconv.FormatInt(n, 10), "--fill", "7")
}
