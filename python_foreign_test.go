package ndshm_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// throwawayUser adds a user with no home for the test and removes it after.
func throwawayUser(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to add a user")
	}
	user := fmt.Sprintf("ndshmpy%d", os.Getpid())
	if out, err := exec.Command("useradd", "-M", "-s", "/bin/false", user).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", user).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v %s", user, err, out)
		}
	})
	return user
}

// Python refuses to map a block another user owns (it could truncate it
// under the mapping: SIGBUS), unless the caller opts in.
func TestPythonAttachForeignBlock(t *testing.T) {
	user := throwawayUser(t)
	name := shmtest.Name()
	py := shmtest.PythonCommand(t, "-m", "ndshm", "create", name, "--dtype", "u1", "--shape", "4", "--fill", "7")
	cmd := exec.Command("runuser", append([]string{"-u", user, "--"}, py.Args...)...)
	cmd.Env = py.Env // runuser keeps it: PYTHONPATH finds the package
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s creating a block: %v %s", user, err, out)
	}
	defer ndshm.Unlink(name)
	var got []string
	python(t, &got, `out = []
for kw in [{}, {'readonly': True}, {'dtype': 'u1', 'shape': 4}]:
    try:
        ndshm.attach(sys.argv[1], **kw)
        out.append('no error')
    except PermissionError as e:
        out.append(str(e))
out.append(str(ndshm.attach(sys.argv[1], allow_foreign=True).tolist()))
print(json.dumps(out))`, name)
	if len(got) != 4 || got[3] != "[7, 7, 7, 7]" {
		t.Fatalf("python: %q", got)
	}
	for _, e := range got[:3] {
		if !strings.Contains(e, "block "+name+" is owned by uid ") || !strings.Contains(e, "allow_foreign=True") {
			t.Errorf("attach of %s's block: %q", user, e)
		}
	}
}
