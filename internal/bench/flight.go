package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/reexec"
)

// flightSize is the block bench flight pulls: the 256 MiB.
const flightSize = 256 << 20

// A flightRow is one transfer of bench flight: a Flight pull of the
// block or the raw TCP copy of as many bytes, between the same hosts;
// or, for scale, a new block filled locally (freshFill).
//
// Copies count, per byte and side, each copy between user and kernel
// memory (read(2), write(2)) and each within user space, as the CPU
// profiles of both sides show them (gRPC-Go v1.85, protobuf-go v1.36).
// The raw copy: write(2) on one side, read(2) on the other. The pull's
// server: protobuf marshals the batch from the block's mapping into the
// message, gRPC's framing copies the message into its 1 MiB write
// buffer, write(2): 3. The puller: read(2) into gRPC's read buffer, a
// copy from it into each frame, one assembling the frames into the
// message (package flight's codec then points the batch body into that
// message rather than unmarshalling a copy), and the copy into the new
// block's shared memory: 4. The fill: the one copy.
type flightRow struct {
	Method     string  `json:"method"` // "flight-pull", "raw-tcp-copy" or "fresh-block-fill"
	Run        int     `json:"run"`    // rows of one run are measured back to back
	Size       int64   `json:"size_bytes"`
	Secs       float64 `json:"seconds"` // pull: request to the block published
	Rate       float64 `json:"bytes_per_s"`
	SendCopies int     `json:"send_user_copies_per_byte"`
	RecvCopies int     `json:"recv_user_copies_per_byte"`
	SendCPU    float64 `json:"send_cpu_ns_per_gb"` // user+system CPU of the sending process, per 1e9 bytes
	RecvCPU    float64 `json:"recv_cpu_ns_per_gb"`
	VsTCP      float64 `json:"vs_tcp,omitempty"` // pull rows: this rate / the same run's raw copy's
}

// flightReport is bench flight --json's object.
type flightReport struct {
	Bench   string      `json:"bench"` // "flight"
	Results []flightRow `json:"results"`
	// Mirror will hold mirrored-ring rows (1 MiB and 100 MiB frames:
	// fps, lost) once package flight mirrors rings; until then it is
	// empty and the report says so.
	Mirror  []json.RawMessage `json:"mirror"`
	Targets []rbenchTarget    `json:"targets"`
}

// benchFlight is `ndshm bench flight`: runs rounds of a pull of a 256
// MiB block from host A's `ndshm serve --flight` into host B, each
// followed by the raw TCP copy of as many bytes from A to B.
func benchFlight(ctx context.Context, w io.Writer, o *Options) error {
	if os.Geteuid() != 0 {
		return errors.New("bench flight makes two network-namespace hosts, which needs root (run it with sudo)")
	}
	s, remove, err := hosts.Start(2)
	if err != nil {
		return fmt.Errorf("bench flight: making two hosts: %w", err)
	}
	rows, err := flightRounds(ctx, s[0], s[1], o.runs)
	err = errors.Join(err, remove())
	if err != nil {
		return err
	}
	r := flightReport{Bench: "flight", Results: rows, Mirror: []json.RawMessage{}, Targets: flightTargets(rows)}
	if o.plot != "" {
		if err := chart.Save(o.plot, flightChart(rows)); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(w).Encode(r)
	}
	return r.write(w)
}

// flightRounds makes the block in a, serves it, and measures runs rounds.
func flightRounds(ctx context.Context, a, b *hosts.Host, runs int) ([]flightRow, error) {
	const name = "bench-flight"
	if err := makeBlock(ctx, a, name, flightSize); err != nil {
		return nil, err
	}
	srv, err := startFlightServer(a)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	var rows []flightRow
	for run := 1; run <= runs; run++ {
		p, err := flightPull(ctx, srv, b, name, fmt.Sprintf("%s-%d", name, run))
		if err != nil {
			return nil, err
		}
		t, err := TCPCopy(ctx, a, b, flightSize)
		if err != nil {
			return nil, err
		}
		f, err := freshFill(flightSize)
		if err != nil {
			return nil, err
		}
		p.Run, f.Run = run, run
		p.VsTCP = p.Rate / t.Rate
		rows = append(rows, p, flightRow{Method: t.Method, Run: run, Size: t.Size, Secs: t.Secs, Rate: t.Rate,
			SendCopies: t.Copies, RecvCopies: t.Copies, SendCPU: t.SendCPU, RecvCPU: t.RecvCPU}, f)
	}
	return rows, nil
}

// flightPull pulls the block name from srv into host b as local, by a
// "flight-pull-peer" process there, and returns what it measured with
// the server's CPU time over the pull.
func flightPull(ctx context.Context, srv *flightServer, b *hosts.Host, name, local string) (flightRow, error) {
	cpu0, err := srv.cpu()
	if err != nil {
		return flightRow{}, err
	}
	cmd := b.Enter(reexec.Command("flight-pull-peer", srv.addr, name, local))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return flightRow{}, err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	stop()
	out := stdout.Bytes()
	if err != nil {
		return flightRow{}, fmt.Errorf("flight pull in %s: %v: %s", b.Name, err, strings.TrimSpace(stderr.String()))
	}
	cpu1, err := srv.cpu()
	if err != nil {
		return flightRow{}, err
	}
	var side tcpSide
	if err := json.Unmarshal(out, &side); err != nil {
		return flightRow{}, fmt.Errorf("flight-pull-peer printed %.80q: %w", out, err)
	}
	gb, secs := float64(flightSize)/1e9, time.Duration(side.Took).Seconds()
	return flightRow{Method: "flight-pull", Size: flightSize, Secs: secs, Rate: flightSize / secs,
		SendCopies: 3, RecvCopies: 4, SendCPU: float64(cpu1-cpu0) / gb, RecvCPU: float64(side.CPU) / gb}, nil
}

// flightTargets checks the target: the median pull at least
// half the median raw copy.
func flightTargets(rows []flightRow) []rbenchTarget {
	ratio := median(rows, "flight-pull") / median(rows, "raw-tcp-copy")
	met := ratio >= 0.5
	return []rbenchTarget{{Target: "flight pull >= 50% of the raw TCP copy (medians)", Value: ratio, Unit: "ratio", Met: &met}}
}

// median returns the median rate of the rows of method.
func median(rows []flightRow, method string) float64 {
	var rs []float64
	for _, r := range rows {
		if r.Method == method {
			rs = append(rs, r.Rate)
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}
