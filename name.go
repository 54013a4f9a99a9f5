package ndshm

import (
	"errors"
	"io/fs"
	"strings"
)

// maxName is NAME_MAX, the longest file name /dev/shm accepts.
const maxName = 255

var errName = errors.New("invalid shared memory name")

// cleanName applies the rules of glibc's shm_open and CPython's
// SharedMemory, so a name means the same block in every language: one
// leading '/' is dropped; the rest must be a single non-empty path
// element of at most 255 bytes.
func cleanName(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	switch {
	case n == "", n == ".", n == "..",
		len(n) > maxName,
		strings.ContainsAny(n, "/\x00"):
		return "", errName
	}
	return n, nil
}

// checkName returns the clean name, or a *fs.PathError for op.
func checkName(op, name string) (string, error) {
	n, err := cleanName(name)
	if err != nil {
		return "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}
