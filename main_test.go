package ndshm_test

import (
	"testing"

	"github.com/ndshm/ndshm/internal/shmtest"
)

// roles are what a re-executed test binary can be asked to do.
var roles = map[string]func(args []string) int{}

func TestMain(m *testing.M) { shmtest.Main(m, roles) }
