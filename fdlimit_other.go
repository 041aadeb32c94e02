//go:build !unix

package main

// fdLimit is unknown here: no connection cap.
func fdLimit() int { return 0 }
