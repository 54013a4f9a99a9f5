package flight

// SendBlock is send, for tests that need a real stream's messages.
var SendBlock = send

// Header is header, for tests that compare it with Block.WriteTo's.
var Header = header

// Prefault switches prefaulting, for benchmarks.
func Prefault(on bool) { prefault = on }
