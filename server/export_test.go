package server

// SetPeerCheck replaces the check of a client's uid, so that tests can
// play a client of another user. Call it before Serve.
func SetPeerCheck(s *Server, ok func(uid int) bool) { s.peerOK = ok }
