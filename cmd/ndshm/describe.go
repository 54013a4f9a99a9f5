package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/sys"
)

// blockJSON is how the commands describe a block in JSON, one object per
// block: ndshm.Info's JSON (the server protocol's block objects too),
// decoded into plain fields for the human outputs. Keys follow docs/JSON.md:
// byte quantities end in _bytes, element counts are count.
type blockJSON struct {
	Name          string  `json:"name"`
	Kind          string  `json:"kind"` // array, ring, or raw for a block read with --dtype/--shape
	DType         string  `json:"dtype"`
	Shape         []int   `json:"shape"`
	Order         string  `json:"order"`      // C or F
	Count         int     `json:"count"`      // elements
	SizeBytes     int     `json:"size_bytes"` // data bytes
	DataOffset    int64   `json:"data_offset"`
	FileSizeBytes int64   `json:"file_size_bytes"`
	Persistent    bool    `json:"persistent"`
	Anonymous     bool    `json:"anonymous"`
	CreatorPID    int     `json:"creator_pid"` // 0 for a raw block
	CreatorAlive  bool    `json:"creator_alive"`
	Orphan        bool    `json:"orphan"`  // owned, creator dead: only gc removes it
	Created       *string `json:"created"` // RFC 3339, null for a raw block, which records none
	Users         []int   `json:"users"`   // pids that map it or hold it open
}

// describe turns what the library says of a block into blockJSON by way
// of Info's own JSON, so that the CLI and the server describe blocks
// alike. creator_alive also covers a persistent block's creator.
func describe(info ndshm.Info) blockJSON {
	info.CreatorAlive = creatorAlive(info)
	var j blockJSON
	// Info always encodes, and its encoding always decodes into blockJSON.
	b, _ := json.Marshal(info)
	json.Unmarshal(b, &j)
	return j
}

// creatorAlive reports whether the block's creator is still running. For
// an owned block that is the liveness lock, which Stat reads. A
// persistent block has no lock holder, so the creator's pid and start
// time are looked up instead: the pid alone may have been reused.
func creatorAlive(info ndshm.Info) bool {
	switch {
	case info.Kind == ndshm.KindRaw || info.CreatorPID <= 0:
		return false
	case !info.Persistent:
		return info.CreatorAlive
	}
	start, err := sys.StartTime(info.CreatorPID)
	return err == nil && start == info.CreatorStart
}

// humanBytes writes a byte count in binary units: 96 B, 1.5 KiB, 256 MiB.
func humanBytes(n int64) string { return human.Bytes(n) }

// parseSize reads a byte count: 64KiB, 1MiB, 1024.
func parseSize(s string) (int, error) { return human.ParseBytes(s) }

// round rounds a duration to the digits that matter, for reports.
func round(t time.Duration) time.Duration { return human.Duration(t) }

// humanAge writes a duration as ls shows ages: 42s, 5m, 3h, 12d.
func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s" // a clock step back, or a creator in the future
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// yesNo is how the human listings show a bool.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// pids is how the human outputs show users: "-" for none, else "12,345".
func pids(ps []int) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
