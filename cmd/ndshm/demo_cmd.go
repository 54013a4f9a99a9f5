package main

import "context"

const demoAbout = `
Shows what ndshm is for, with real processes: a loader fills a 256 MiB
float64 block; a worker process (this binary, re-executed) attaches by
name, transforms half of it in place and sends back one number; Python's
NumPy, if /usr/bin/python3 has it, attaches with np.load and sums it; then
the same job goes through a unix socket, the fastest copying channel, and
the two are timed side by side. Then the same worker pool maps and
reduces the array; a ring streams 100 MiB frames at 30 fps to a Go and a
Python consumer, next to the same stream through unix sockets; and a
data server hands blocks out and collects an orphan. /dev/shm is left as
it was found.`

func init() {
	commands["demo"] = command{func(ctx context.Context, e *env, args []string) error {
		f := newFlags(e, "demo", "demo", demoAbout)
		pos, err := f.parse(args)
		if err == nil {
			err = f.want(pos)
		}
		if err != nil {
			return err
		}
		return runDemo(ctx, e.stdout)
	}, "share a 256 MiB array with a worker process, vs. copying it through a socket"}
}
