package main

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// Tests of ndshm pull and push between two "hosts" (internal/hosts):
// network namespaces with their own /dev/shm, each running real ndshm
// processes, checked with NumPy on the host that received the block.

// TestFlightAcross: blocks made on host A from NumPy files are pulled by
// host B bit for bit, plaintext and over TLS with a token through a
// rate-limited link, and a block made on B is pushed to A.
func TestFlightAcross(t *testing.T) {
	s := hosts.New(t, 2)
	a, b := s[0], s[1]
	f4, i2 := saveRandom(t)
	cert, key := selfSignedFiles(t, a.Addr.AsSlice())
	nf, ni := shmtest.Name(), shmtest.Name()+"i"
	for _, tc := range []struct {
		name  string
		rate  int64 // bits/s, 0 for none
		serve []string
		url   string // scheme and the flags of pull and push
		flags []string
	}{
		{"plaintext", 0, []string{"--flight-insecure"}, "grpc://", []string{"--insecure"}},
		{"tls-token-100mbit", 100e6, []string{"--flight-tls-cert", cert, "--flight-tls-key", key, "--flight-token", "s3cret"},
			"grpc+tls://", []string{"--ca", cert, "--token", "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Netem(0, tc.rate); err != nil {
				t.Fatal(err)
			}
			srv := startFlight(t, a, append(tc.serve, "--load", nf+"="+f4, "--load", ni+"="+i2)...)
			base := tc.url + srv.addr + "/"
			for _, name := range []string{nf, ni} {
				want := numpyHash(t, a, name)
				mustInHost(t, b, append([]string{"pull", base + name, name + "b"}, tc.flags...)...)
				if got := numpyHash(t, b, name+"b"); got != want || !strings.Contains(got, "attach ok") {
					t.Errorf("pulled %s: NumPy on B reads\n%s, on A\n%s", name, got, want)
				}
				// Back to A, as a new block of its server's.
				mustInHost(t, b, append([]string{"push", name + "b", base + name + "p"}, tc.flags...)...)
				if got := numpyHash(t, a, name+"p"); got != want {
					t.Errorf("pushed %s: NumPy on A reads\n%s, want\n%s", name, got, want)
				}
				mustInHost(t, b, "rm", name+"b")
			}
			// A wrong token pulls nothing, and leaves nothing.
			if tc.url == "grpc+tls://" {
				out, err := inHost(t, b, "pull", base+nf, "--ca", cert, "--token", "wrong")
				if err == nil || !strings.Contains(out, "ndshm: pull") {
					t.Errorf("pull with a wrong token: %v, %q", err, out)
				}
			}
			if left := shmEntries(t, b); len(left) > 0 {
				t.Errorf("B's /dev/shm holds %q", left)
			}
			srv.stop() // removes its blocks, the loaded and the pushed
			if left := shmEntries(t, a); len(left) > 0 {
				t.Errorf("A's /dev/shm holds %q after its server stopped", left)
			}
		})
	}
}

// TestFlightKilled: kill -9 of either side in the middle of a 512 MiB
// pull over a 400 Mbit/s link leaves no block, named or not, on the
// pulling host; a killed server makes the puller fail with an error
// that says so; a killed puller leaves the server serving.
func TestFlightKilled(t *testing.T) {
	const n = 512 << 20
	s := hosts.New(t, 2)
	a, b := s[0], s[1]
	name := shmtest.Name()
	bigBlock(t, a, name, n)
	base := shmUsed(t, b)
	for _, victim := range []string{"server", "puller"} {
		t.Run(victim, func(t *testing.T) {
			if err := s.Netem(0, 400e6); err != nil { // about 11 s for the block
				t.Fatal(err)
			}
			srv := startFlight(t, a, "--flight-insecure")
			pull := b.Enter(shmtest.Command("ndshm", "pull", "grpc://"+srv.addr+"/"+name, "--insecure"))
			var stderr strings.Builder
			pull.Stderr = &stderr
			if err := pull.Start(); err != nil {
				t.Fatal(err)
			}
			waitUsed(t, b, base+32<<20, "pull")
			if victim == "server" {
				srv.kill()
				done := make(chan error, 1)
				go func() { done <- pull.Wait() }()
				select {
				case err := <-done:
					var exit *exec.ExitError
					if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.HasPrefix(stderr.String(), "ndshm: pull "+name+": ") {
						t.Errorf("puller of a killed server: %v, stderr %q; want exit 1, \"ndshm: pull %s: ...\"", err, stderr.String(), name)
					}
					t.Logf("puller of a killed server: %s", strings.TrimSpace(stderr.String()))
				case <-time.After(30 * time.Second):
					pull.Process.Kill()
					<-done
					t.Error("the puller did not exit within 30s of its server's death")
				}
			} else {
				pull.Process.Kill()
				pull.Wait()
			}
			if left := shmEntries(t, b); len(left) > 0 {
				t.Errorf("B's /dev/shm holds %q after the %s was killed", left, victim)
			}
			if used := shmUsed(t, b); used > base+1<<20 {
				t.Errorf("B's /dev/shm uses %d bytes after the %s was killed, %d before", used, victim, base)
			}
			if victim == "puller" { // the server still serves, at full speed
				if err := s.Netem(0, 0); err != nil {
					t.Fatal(err)
				}
				mustInHost(t, b, "pull", "grpc://"+srv.addr+"/"+name, "--insecure")
				if left := shmEntries(t, b); !slices.Equal(left, []string{name}) {
					t.Errorf("B's /dev/shm holds %q after a second pull, want [%s]", left, name)
				}
				mustInHost(t, b, "rm", name)
			}
		})
	}
}
