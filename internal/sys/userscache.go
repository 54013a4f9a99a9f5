package sys

import (
	"sync"
	"sync/atomic"
	"time"
)

// scans counts the passes over /proc that Users has made.
var scans atomic.Int64

// Scans returns how many passes over /proc this process has made to find
// users: a scan costs milliseconds of CPU per call (more with many
// processes or descriptors), so callers that answer others must share them.
func Scans() int64 { return scans.Load() }

// SharedUsers is the process's one cache of Users.
var SharedUsers usersCache

// A usersCache shares passes over /proc among concurrent callers: at most
// one runs at a time, and a caller takes the latest one that began
// recently enough for it.
type usersCache struct {
	mu      sync.Mutex
	at      time.Time // when the latest completed scan began
	users   map[FileID][]int
	running chan struct{} // closed when the scan in flight ends; nil if none
}

// Users returns the users from a scan of /proc that began at most maxAge
// before the call: with maxAge 0, one that began after it, so the answer
// is as fresh as a scan of its own, but callers that arrive during a scan
// share the next one. The map and its slices are shared: do not modify
// them.
func (c *usersCache) Users(maxAge time.Duration) map[FileID][]int {
	oldest := time.Now().Add(-maxAge)
	c.mu.Lock()
	for {
		if c.users != nil && !c.at.Before(oldest) {
			defer c.mu.Unlock()
			return c.users
		}
		if c.running == nil {
			break
		}
		ch := c.running
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
	}
	ch := make(chan struct{})
	c.running = ch
	c.mu.Unlock()
	began := time.Now()
	users := Users()
	c.mu.Lock()
	c.users, c.at, c.running = users, began, nil
	c.mu.Unlock()
	close(ch)
	return users
}
