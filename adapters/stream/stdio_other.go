//go:build !unix

package stream

import "os"

// pollable returns f: outside Unix, standard input and output are used as
// they are (a write outlasting the timeout then closes them).
func pollable(f *os.File) *os.File { return f }
