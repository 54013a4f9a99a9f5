package ndshm

// Version is the version of ndshm's tools and of its Python package:
// `ndshm version` prints it, and the Python package's ndshm.__version__
// is the same string (a test holds the two together). It is distinct
// from the Go module's version, which comes from the tag or commit a
// binary was built from.
const Version = "0.1.0"
