package hosts

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Netem shapes every host's outgoing traffic with tc(8): each packet
// waits delay, so a round trip between two hosts takes at least twice
// delay, and each host sends at most rate bits per second (0: no limit).
// Netem(0, 0) removes the shaping. It replaces any earlier shaping.
//
// Delay needs the kernel's netem queueing discipline (CONFIG_NET_SCH_NETEM,
// module sch_netem). Without it, a rate alone is applied with tbf instead,
// and a delay is an error wrapping errors.ErrUnsupported.
func (s Set) Netem(delay time.Duration, rate int64) error {
	for _, h := range s {
		if err := h.netem(delay, rate); err != nil {
			return err
		}
	}
	return nil
}

func (h *Host) netem(delay time.Duration, rate int64) error {
	tc := []string{"-n", h.Name, "qdisc"}
	if delay == 0 && rate == 0 {
		run("tc", append(tc, "del", "dev", h.Link, "root")...) // none there is no error
		return nil
	}
	args := append(tc, "replace", "dev", h.Link, "root", "netem", "limit", "100000")
	if delay > 0 {
		args = append(args, "delay", fmt.Sprintf("%dus", delay.Microseconds()))
	}
	if rate > 0 {
		args = append(args, "rate", fmt.Sprintf("%dbit", rate))
	}
	_, err := run("tc", args...)
	if err == nil || !strings.Contains(err.Error(), "qdisc kind is unknown") {
		return err
	}
	if delay > 0 {
		return fmt.Errorf("hosts: a delay needs the kernel's netem qdisc (sch_netem): %w", errors.ErrUnsupported)
	}
	// A token bucket of 4 ms of traffic, at least 64 KiB so that a
	// segmentation-offload packet fits, and at most 100 ms queued.
	burst := max(rate/8/250, 64<<10)
	_, err = run("tc", append(tc, "replace", "dev", h.Link, "root", "tbf",
		"rate", fmt.Sprintf("%dbit", rate), "burst", fmt.Sprint(burst), "latency", "100ms")...)
	return err
}
