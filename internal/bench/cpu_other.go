//go:build !unix

package bench

import "time"

// CPUTime returns 0 where getrusage is not available; the suite's
// cpu-ns/call figure then reads 0.
func CPUTime() time.Duration { return 0 }
