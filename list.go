package ndshm

import (
	"errors"
	"os"
	"slices"
	"sort"

	"github.com/ndshm/ndshm/internal/sys"
)

// List describes every ndshm block in /dev/shm, sorted by name. Files
// without ndshm's magic (other tools' segments, raw blocks) are skipped,
// never opened for writing. Blocks that vanish or change while List reads
// them are skipped too; other errors end the listing. Of the options it
// heeds UsersWithin.
func List(opts ...Option) ([]Info, error) {
	ents, err := os.ReadDir(sys.Dir)
	if err != nil {
		return nil, err
	}
	var infos []Info
	who := users(opts)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := stat(e.Name())
		switch {
		case err == nil:
			info.Users = slices.Clone(who[info.id])
			infos = append(infos, info)
		case errors.Is(err, ErrFormat), errors.Is(err, os.ErrNotExist),
			errors.Is(err, os.ErrPermission), errors.Is(err, ErrDType):
			// not ours, gone, or not ours to read
		default:
			return infos, err
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}
