//go:build !unix

package loadtest

import "time"

// processCPU returns 0 where getrusage(2) does not exist: Result.CPU is
// then unknown.
func processCPU() time.Duration { return 0 }
