package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm/server"
)

// A client sending bad requests as fast as it can does not flood the
// log: a few lines, then a count of the rest.
func TestRefusedLogLimited(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	srv := newServer(t)
	srv.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	server.SetRefusedEvery(srv, time.Hour) // one interval, whatever the speed
	stop := start(t, srv)
	c := rawDial(t, srv.Socket)
	const bad = 1000
	for range bad {
		if rep := exchange(t, c, []byte(`{"v":1,"op":"frobnicate"}`)); rep.OK {
			t.Fatal("a bad request succeeded")
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	refused, summary := 0, ""
	for _, l := range lines {
		switch {
		case strings.Contains(l, "unknown op"):
			refused++
		case strings.Contains(l, "more refused requests"):
			summary = l
		}
	}
	if want := fmt.Sprintf("… %d more refused requests in the last 1h0m0s", bad-refused); refused > 10 || summary != want {
		t.Errorf("%d bad requests logged %d lines (%d in all) and the summary %q; want at most 10, then %q",
			bad, refused, len(lines), summary, want)
	}
}
