package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
	"github.com/ndshm/ndshm/server"
)

// Clients cannot make the server search /proc once per request: stat and
// list share one search among all the requests of its max age.
func TestUsersScansShared(t *testing.T) {
	srv := newServer(t)
	server.SetUsersMaxAge(srv, time.Hour) // so that the count does not depend on speed
	stop := start(t, srv)
	defer stop()
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const clients, each = 8, 25
	before := sys.Scans()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		c := dial(t, srv.Socket)
		wg.Go(func() {
			for i := range each {
				var err error
				if i%2 == 0 {
					_, err = c.Stat(name)
				} else {
					_, err = c.List()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := sys.Scans() - before; n > 1 {
		t.Errorf("%d requests searched /proc %d times; want at most once", clients*each, n)
	}
}

// BenchmarkStat measures a stat request with users searched afresh for
// each request (as before the cache) and shared for a second, with one
// client and with 16 at once.
func BenchmarkStat(b *testing.B) {
	name := shmtest.Name()
	blk, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
	if err != nil {
		b.Fatal(err)
	}
	defer blk.Close()
	for _, age := range []time.Duration{time.Nanosecond, 0} {
		for _, clients := range []int{1, 16} {
			what := "fresh"
			if age == 0 {
				what = "shared-1s"
			}
			b.Run(fmt.Sprintf("%s/clients=%d", what, clients), func(b *testing.B) {
				srv := &server.Server{Socket: b.TempDir() + "/s.sock", GCInterval: -1}
				server.SetUsersMaxAge(srv, age)
				stop := start(b, srv)
				defer stop()
				b.SetParallelism(clients) // × GOMAXPROCS goroutines
				before := sys.Scans()
				b.RunParallel(func(pb *testing.PB) {
					c, err := server.Dial(srv.Socket)
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					for pb.Next() {
						if _, err := c.Stat(name); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(sys.Scans()-before)/float64(b.N), "scans/op")
			})
		}
	}
}
