//go:build unix

package bench

import (
	"syscall"
	"time"
)

// CPUTime returns the user and system CPU time this process has used so
// far, all its threads together: both ends of a loopback benchmark, the
// runtime and the garbage collector included.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
