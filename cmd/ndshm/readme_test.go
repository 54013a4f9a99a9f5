package main

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README lists the commands exactly as ndshm help does, and its
// synopsis names every command and ring subcommand, and no other.
func TestREADMECommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	const start = "```\n$ ndshm help\n"
	i := strings.Index(readme, start)
	if i < 0 {
		t.Fatalf("README.md has no block starting %q", start)
	}
	listed, _, _ := strings.Cut(readme[i+len(start):], "```")
	if help := mustRun(t, "help"); listed != help {
		t.Errorf("README.md's `ndshm help` block:\n%s\nndshm help prints:\n%s", listed, help)
	}

	_, synopsis, _ := strings.Cut(readme, "## Command line\n\n```\n")
	synopsis, _, _ = strings.Cut(synopsis, "```")
	var want []string
	for name, c := range commands {
		want = append(want, name)
		for sub := range c.subs {
			want = append(want, name+" "+sub)
		}
	}
	want = append(want, "help")
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)(?:^|\| )ndshm ([a-z]+)(?: ([a-z]+))?`).FindAllStringSubmatch(synopsis, -1) {
		got[m[1]] = true
		if c, ok := commands[m[1]]; ok && c.subs != nil {
			got[m[1]+" "+m[2]] = true
		}
	}
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(slices.Values(want)); !slices.Equal(g, w) {
		t.Errorf("README.md's synopsis names %q, want %q", g, w)
	}
}
