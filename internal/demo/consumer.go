package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ndshm/ndshm/internal/reexec"
)

// A consumer is one consumer process of the demo's stream: its command,
// then what it printed and how it ended.
type consumer struct {
	Who  string // for the table: "Go consumer (ndshm ring recv)"
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{} // closed once it has exited and err is set
	err  error
}

// lang is the consumer's language, for a sentence: "Go".
func (c *consumer) lang() string { return strings.Fields(c.Who)[0] }

// goConsumer is `ndshm ring recv --verify` in a process of its own (the
// role "ndshm"): it reads to the end of the stream, however many frames
// the writer managed.
func goConsumer(who, name string) *consumer {
	cmd := reexec.Command("ndshm", "ring", "recv", "--verify", "--json", "--timeout", "1m", name)
	return &consumer{Who: who, cmd: quietRace(cmd)}
}

// pyConsumer is `python3 -m ndshm ring-recv --verify`, or nil and why not.
func pyConsumer(ctx context.Context, name string) (*consumer, error) {
	py, env, err := pyPackage(ctx)
	if err != nil {
		return nil, err
	}
	probe := exec.CommandContext(ctx, py, "-m", "ndshm", "ring-recv", "-h")
	probe.Env = env
	if probe.Run() != nil {
		return nil, fmt.Errorf("the ndshm package %s runs has no ring-recv command", py)
	}
	cmd := exec.Command(py, "-m", "ndshm", "ring-recv", "--verify", "--timeout", "1m", name)
	cmd.Env, cmd.Stderr = env, os.Stderr
	return &consumer{Who: "Python consumer (python3 -m ndshm ring-recv)", cmd: cmd}, nil
}

// pyPackage returns the interpreter that runs the package ndshm and its
// environment: $NDSHM_PYTHON, with the package installed (as `make test`
// sets it), or else /usr/bin/python3 with the checkout's python/ on
// PYTHONPATH.
func pyPackage(ctx context.Context) (string, []string, error) {
	if py := os.Getenv("NDSHM_PYTHON"); py != "" {
		if exec.CommandContext(ctx, py, "-c", "import numpy, ndshm").Run() != nil {
			return "", nil, fmt.Errorf("NDSHM_PYTHON=%s cannot import numpy and ndshm", py)
		}
		return py, os.Environ(), nil
	}
	if exec.CommandContext(ctx, python, "-c", "import numpy").Run() != nil {
		return "", nil, errNoNumPy
	}
	dir := findPyPackage()
	if dir == "" {
		return "", nil, errors.New("python/ndshm/ is not in or above the working directory")
	}
	return python, append(os.Environ(), "PYTHONPATH="+dir), nil
}

// findPyPackage looks for python/ndshm/ from the working directory up
// and returns the python directory, for PYTHONPATH: the demo runs from a
// checkout (go run ./cmd/ndshm demo), its tests from cmd/ndshm.
func findPyPackage() string {
	dir, err := os.Getwd()
	for ; err == nil; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "python")
		if _, err := os.Stat(filepath.Join(p, "ndshm", "__main__.py")); err == nil {
			return p
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	return ""
}

// quietRace spares a race-enabled child (under go test -race) the second
// the race runtime otherwise sleeps at exit.
func quietRace(cmd *exec.Cmd) *exec.Cmd {
	if os.Getenv("GORACE") == "" {
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// startConsumers starts cons. The context it returns ends when any of
// them fails (so a writer waiting for it gives up) or ctx ends (which
// kills them); stop kills any still running and waits for all.
func startConsumers(ctx context.Context, cons []*consumer) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	var started []*consumer
	stop := func() {
		cancel(errors.New("stopped"))
		for _, c := range started {
			<-c.done
		}
	}
	for _, c := range cons {
		c.cmd.Stdout = &c.out
		if err := c.cmd.Start(); err != nil {
			stop()
			return ctx, stop, fmt.Errorf("%s: %w", c.Who, err)
		}
		started, c.done = append(started, c), make(chan struct{})
		unkill := context.AfterFunc(ctx, func() { c.cmd.Process.Kill() })
		go func() {
			c.err = c.cmd.Wait()
			unkill()
			if c.err != nil {
				cancel(fmt.Errorf("%s: %w", c.Who, c.err))
			}
			close(c.done)
		}()
	}
	return ctx, stop, nil
}

// collect waits for every consumer and returns their reports.
func collect(cons []*consumer) ([]Consumer, error) {
	var res []Consumer
	for _, c := range cons {
		<-c.done
		out := strings.TrimSpace(c.out.String())
		r := Consumer{Who: c.Who}
		if c.err != nil {
			return nil, fmt.Errorf("%s: %w; it printed %q", c.Who, c.err, out)
		}
		// Go's report is indented JSON, Python's one line, maybe after others.
		if json.Unmarshal([]byte(out), &r.Report) != nil {
			if err := json.Unmarshal([]byte(out[strings.LastIndexByte(out, '\n')+1:]), &r.Report); err != nil {
				return nil, fmt.Errorf("%s printed %q: %w", c.Who, out, err)
			}
		}
		r.CPU = c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
		res = append(res, r)
	}
	return res, nil
}
