//go:build !race

package ecesim

// raceEnabled relaxes timing bounds under the race detector.
const raceEnabled = false
