//go:build !windows

package main

// runAsWindowsService is the Windows Service Control Manager protocol; other systems' service
// managers just start the process and signal it, so there is nothing to do here.
func runAsWindowsService(name string, body func(stop <-chan string, ready func()) int) (bool, int) {
	return false, 0
}
