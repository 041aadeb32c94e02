//go:build race

package collector

// raceEnabled: the race detector slows the 5,000-deployment measurements
// down tenfold; they run without it.
const raceEnabled = true
