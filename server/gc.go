package server

import (
	"context"
	"time"

	"github.com/ndshm/ndshm"
)

// defaultGCInterval is how often a server collects orphans by default.
const defaultGCInterval = 2 * time.Second

// collect runs ndshm.GC every GCInterval until ctx is done, logging each
// orphan it removes. It never forces: an orphan that processes still map
// stays until they let go.
func (s *Server) collect(ctx context.Context) {
	every := s.GCInterval
	switch {
	case every < 0:
		return
	case every == 0:
		every = defaultGCInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		got, err := ndshm.GC(ndshm.GCOptions{})
		for _, c := range got {
			if c.Removed {
				s.logf("gc: removed orphan %s (%s, creator pid %d dead)", c.Name, size(c.FileSize), c.CreatorPID)
			}
		}
		if err != nil {
			s.logf("gc: %v", err)
		}
	}
}
