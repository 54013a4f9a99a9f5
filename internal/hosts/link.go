package hosts

import (
	"fmt"
	"net/netip"
)

// network is the hosts' subnet: every set has its own, in namespaces of
// its own, so two sets may use the same addresses. 198.18.0.0/15 is
// reserved for benchmarking (RFC 2544) and routed nowhere.
var network = netip.MustParsePrefix("198.18.0.0/24")

// link is the name of each host's interface inside its namespace.
const link = "eth0"

// build makes the namespaces and links of the hosts stem-h0, stem-h1...
// and, for three hosts or more, the hub stem-hub, whose bridge joins
// them. On error it returns what it made, for teardown.
func build(stem string, n int) (Set, error) {
	s := make(Set, 0, n)
	addr := network.Addr()
	for i := range n {
		addr = addr.Next()
		h := &Host{Name: fmt.Sprintf("%s-h%d", stem, i), Addr: addr, Link: link}
		if _, err := ip("netns", "add", h.Name); err != nil {
			return s, err
		}
		s = append(s, h)
		if _, err := ip("-n", h.Name, "link", "set", "lo", "up"); err != nil {
			return s, err
		}
	}
	if err := wire(stem, s); err != nil {
		return s, err
	}
	for _, h := range s {
		if err := h.up(); err != nil {
			return s, err
		}
		if err := h.mountShm(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// wire joins the hosts: two by a veth pair, more through a bridge in the
// hub. Each link is made in its namespaces directly, never in the root
// namespace.
func wire(stem string, s Set) error {
	if len(s) == 2 {
		_, err := ip("link", "add", link, "netns", s[0].Name, "type", "veth", "peer", "name", link, "netns", s[1].Name)
		return err
	}
	hub := stem + "-hub"
	steps := [][]string{
		{"netns", "add", hub},
		{"-n", hub, "link", "add", "br0", "type", "bridge"},
		{"-n", hub, "link", "set", "br0", "up"},
	}
	for i, h := range s {
		port := fmt.Sprintf("p%d", i)
		steps = append(steps,
			[]string{"link", "add", link, "netns", h.Name, "type", "veth", "peer", "name", port, "netns", hub},
			[]string{"-n", hub, "link", "set", port, "master", "br0", "up"})
	}
	for _, args := range steps {
		if _, err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// up gives the host its address and brings its link up.
func (h *Host) up() error {
	pfx := netip.PrefixFrom(h.Addr, network.Bits())
	if _, err := ip("-n", h.Name, "addr", "add", pfx.String(), "dev", h.Link); err != nil {
		return err
	}
	_, err := ip("-n", h.Name, "link", "set", h.Link, "up")
	return err
}
