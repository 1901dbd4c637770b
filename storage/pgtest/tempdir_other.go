//go:build !linux

package pgtest

import "os"

// tempBase returns the directory test clusters are created in: os.TempDir() (set TMPDIR to
// choose, e.g. a RAM disk for faster database clones).
func tempBase() string { return os.TempDir() }
