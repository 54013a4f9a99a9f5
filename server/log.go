package server

import (
	"sync"
	"time"
)

// The log of refused requests and connections is rate-limited: any client
// can send bad requests as fast as it likes, and must not flood the log.
const (
	refusedEvery = 10 * time.Second // the interval of the limit
	refusedLines = 10               // lines logged per interval; the rest are counted
)

// refusals counts the refusals logged in the current interval and those
// left out.
type refusals struct {
	mu      sync.Mutex
	every   time.Duration // refusedEvery, unless a test changes it
	began   time.Time     // of the current interval
	logged  int
	dropped int
	timer   *time.Timer // reports the dropped at the interval's end
	stopped bool
}

// logRefused logs a refusal, unless refusedLines have been logged in this
// interval: it is then counted, and the count logged when the interval
// ends (or the server stops).
func (s *Server) logRefused(format string, args ...any) {
	r := &s.refused
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.every == 0 {
		r.every = refusedEvery
	}
	if now := time.Now(); now.Sub(r.began) >= r.every {
		s.flushRefused()
		r.began, r.logged = now, 0
	}
	if r.logged < refusedLines {
		r.logged++
		s.logf(format, args...)
		return
	}
	r.dropped++
	if r.timer == nil && !r.stopped {
		r.timer = time.AfterFunc(time.Until(r.began.Add(r.every)), func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.timer = nil
			if !r.stopped {
				s.flushRefused()
			}
		})
	}
}

// flushRefused logs how many refusals were left out; r.mu is held.
func (s *Server) flushRefused() {
	r := &s.refused
	if r.dropped > 0 {
		s.logf("… %d more refused requests in the last %v", r.dropped, r.every)
		r.dropped = 0
	}
}

// stopRefused logs what is left out and logs nothing after: Serve calls
// it as it returns.
func (s *Server) stopRefused() {
	r := &s.refused
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	s.flushRefused()
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}
