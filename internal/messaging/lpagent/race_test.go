//go:build race

package lpagent

// raceDetector reports whether the tests run with the race detector, which
// makes them several times slower.
const raceDetector = true
