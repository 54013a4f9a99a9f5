package sys

import (
	"bytes"
	"errors"
	"os"
	"strconv"
)

// StartTime returns field 22 of /proc/PID/stat, the process's start time
// in clock ticks since boot. With the pid it names one process for good:
// a reused pid has a later start time.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Field 2 is "(comm)" and comm may hold spaces and parentheses:
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	const field = 22 - 3 // f[0] is field 3
	if len(f) <= field {
		return 0, errors.New("malformed /proc stat")
	}
	return strconv.ParseUint(string(f[field]), 10, 64)
}
