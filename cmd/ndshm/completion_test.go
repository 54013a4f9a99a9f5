package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The scripts name every command, ring's subcommands and, for a sample,
// every flag the command defines.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		out := mustRun(t, "completion", shell)
		for _, d := range commandTree(context.Background(), commands) {
			if !strings.Contains(out, d.Name) {
				t.Errorf("%s script does not mention %s", shell, d.Name)
			}
		}
		for _, tc := range []struct {
			cmd   string
			flags []string
		}{
			{"'create'", []string{"--dtype", "--shape", "--order", "--fill", "--json"}},
			{"'ring create'", []string{"--slots", "--readers", "--policy"}},
			{"'ring recv'", []string{"--verify", "--frames", "--spin"}},
			{"'serve'", []string{"--socket", "--gc-interval", "--load"}},
		} {
			_, line, ok := strings.Cut(out, "\n"+indent(shell)+tc.cmd+") ")
			line, _, _ = strings.Cut(line, "\n")
			for _, fl := range tc.flags {
				if !ok || !strings.Contains(line, fl) {
					t.Errorf("%s script: %s does not complete %s: %q", shell, tc.cmd, fl, line)
				}
			}
		}
	}
}

func indent(shell string) string {
	if shell == "bash" {
		return "    "
	}
	return "  "
}

// bash parses the script, and its completion function completes.
func TestBashCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(t.TempDir(), "ndshm.bash")
	if err := os.WriteFile(script, []byte(mustRun(t, "completion", "bash")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		line string // what is typed; the last word is completed
		want string // COMPREPLY, space-separated
	}{
		{"ndshm ri", "ring"},
		{"ndshm ring ", "create recv send stat"},
		{"ndshm ring create --s", "--shape --slots"},
		{"ndshm ring send cam --fr", "--frames"},
		{"ndshm create x --dtype f8 --sh", "--shape"},
		{"ndshm help r", "reduce ring rm"},
		{"ndshm gc --", "--dry-run --force --json"},
		{"ndshm completion ", "bash zsh"},
		{"ndshm ring stat x --", "--json"},
	} {
		prog := `source "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ndshm; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", script, tc.line).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("completing %q: %v, got %q, want %q", tc.line, err, got, tc.want)
		}
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "fish"}, {"completion", "bash", "zsh"}} {
		if _, _, err := ndshmRun(t, args...); !isUsage(err) {
			t.Errorf("ndshm %q: %v, want a usage error", args, err)
		}
	}
}
