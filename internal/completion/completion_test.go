package completion

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tree is a small command tree: a command with flags, a group with
// subcommands, and help.
var tree = []Command{
	{Name: "make", Summary: "make a block", Flags: []Flag{{"--dtype", "the dtype D"}, {"--dry-run", "it's a: test"}}},
	{Name: "ring", Summary: "rings", Subs: []Command{
		{Name: "send", Summary: "send frames", Flags: []Flag{{"--frames", "K frames"}}},
		{Name: "stat", Summary: "show a ring"},
	}},
	{Name: "help", Summary: "help", Subs: []Command{{Name: "make"}, {Name: "ring"}}},
}

// Each script has a case for every context, with its words quoted for
// the shell (zsh's with their descriptions, colons escaped).
func TestScripts(t *testing.T) {
	for _, tc := range []struct {
		shell string
		write func(*bytes.Buffer)
		want  []string
	}{
		{"bash", func(w *bytes.Buffer) { Bash(w, tree) }, []string{
			"    '') echo 'make ring help' ;;\n",
			"    'make') echo '--dtype --dry-run' ;;\n",
			"    'ring') echo 'send stat' ;;\n",
			"    'ring send') echo '--frames' ;;\n",
			"        ring|help) cmdpath=\"$cmdpath $w\" ;;\n",
		}},
		{"zsh", func(w *bytes.Buffer) { Zsh(w, tree) }, []string{
			"  'make') reply=('--dtype:the dtype D' '--dry-run:it'\\''s a: test') ;;\n",
			"  'ring') reply=('send:send frames' 'stat:show a ring') ;;\n",
			"  ''|ring|help) _describe -t commands",
		}},
	} {
		var w bytes.Buffer
		tc.write(&w)
		for _, want := range tc.want {
			if !strings.Contains(w.String(), want) {
				t.Errorf("%s script lacks %q:\n%s", tc.shell, want, w.String())
			}
		}
	}
}

// bash parses the script, and its completion function completes the
// commands, subcommands and flags of the tree.
func TestBashCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var w bytes.Buffer
	Bash(&w, tree)
	script := filepath.Join(t.TempDir(), "ndshm.bash")
	if err := os.WriteFile(script, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"ndshm ", "make ring help"},
		{"ndshm ring s", "send stat"},
		{"ndshm ring send x --f", "--frames"},
		{"ndshm make x --d", "--dtype --dry-run"},
		{"ndshm help r", "ring"},
	} {
		prog := `source "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ndshm; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", script, tc.line).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("completing %q: %v, got %q, want %q", tc.line, err, got, tc.want)
		}
	}
}
