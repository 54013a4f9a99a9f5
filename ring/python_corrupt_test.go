package ring_test

import (
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// A Python reader whose cursor is past the writer's head (a head moved
// back by a corrupt or hostile peer) reports the corruption, before
// even the end of the stream, instead of waiting for frames that will
// never come: as Go's Reader does.
func TestPythonCursorPastHead(t *testing.T) {
	r := pyRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2})
	p := pyScript(t, `
r = ndshm.Ring(sys.argv[1])
rd = r.reader()
print('subscribed', flush=True)
got = [rd.recv(timeout=5).seq for _ in range(2)]
r._st(ndshm.ring._HEAD, 1)   # the head moves back, from 2 to 1
try:
    rd.recv(timeout=1)
    err = ''
except ValueError as e:
    err = str(e)
print(json.dumps({'got': got, 'err': err}))
`, r.Name())
	if l := p.line(); l != "subscribed" {
		t.Fatalf("python said %q", l)
	}
	pyPublish(t, r, 2, -1)
	var out struct {
		Got []int
		Err string
	}
	if err := p.result(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Got) != 2 || !strings.Contains(out.Err, "past the writer") {
		t.Errorf("python got %v, then error %q; want frames 0 and 1, then a corruption error", out.Got, out.Err)
	}
}
