// Package sys is ndshm's only door to the kernel: shared-memory files,
// memfds, mappings and OFD locks. It is the one package that imports
// golang.org/x/sys/unix, so every system call the project makes can be
// read in one place.
//
// File descriptors are plain ints, always opened close-on-exec. They are
// deliberately not wrapped in *os.File: a finalizer closing a descriptor
// would silently drop the OFD lock that proves its creator alive.
// Functions return bare errnos; callers add the name and operation.
package sys
