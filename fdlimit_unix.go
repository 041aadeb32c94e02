//go:build unix

package main

import "syscall"

// fdLimit is the soft limit of open file descriptors (the Go runtime raises
// it to the hard limit at start-up), or 0 when unknown.
func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0
	}
	return int(rl.Cur)
}
