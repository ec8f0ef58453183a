//go:build unix

package stream

import (
	"os"
	"syscall"
)

// pollable returns a non-blocking copy of f (a file of its own, over a
// duplicate of f's descriptor) when f is a pipe or a socket, else f.
// Go's runtime poller then serves it: deadlines work, and Close ends a
// read or write in progress. Terminals and regular files are left alone:
// a terminal's mode is shared with the shell, and regular files never
// block for long.
func pollable(f *os.File) *os.File {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return f
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	dup := -1
	_ = rc.Control(func(fd uintptr) {
		if d, err := syscall.Dup(int(fd)); err == nil {
			dup = d
		}
	})
	if dup < 0 {
		return f
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return f
	}
	return os.NewFile(uintptr(dup), f.Name())
}
