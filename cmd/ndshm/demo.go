package main

import (
	"context"
	"io"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/demo"
	"github.com/ndshm/ndshm/internal/describe"
)

// runDemo is `ndshm demo`: the demo is internal/demo's.
func runDemo(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "demo", "demo [--json]", demo.About)
	asJSON := f.Bool("json", false, "print the measured results as JSON instead of the story")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos)
	}
	if err != nil {
		return err
	}
	out := e.stdout
	if *asJSON {
		out = io.Discard
	}
	res, err := demo.Run(ctx, out)
	if err != nil || !*asJSON {
		return err
	}
	return describe.WriteJSON(e.stdout, res)
}
