//go:build !unix

package loadtest

import "time"

// ProcessCPU returns 0 where getrusage(2) does not exist: Result.CPU is
// then unknown.
func ProcessCPU() time.Duration { return 0 }
