package server

import "time"

// SetPeerCheck replaces the check of a client's uid, so that tests can
// play a client of another user. Call it before Serve.
func SetPeerCheck(s *Server, ok func(uid int) bool) { s.peerOK = ok }

// SetUsersMaxAge sets how old the users of a stat or list reply may be.
// Call it before Serve.
func SetUsersMaxAge(s *Server, d time.Duration) { s.usersAge = d }

// SetRefusedEvery sets the interval of the limit on logged refusals.
// Call it before Serve.
func SetRefusedEvery(s *Server, d time.Duration) { s.refused.every = d }
