//go:build !windows

package main

import (
	"fmt"
	"os"
)

// run is Windows-only: the service host exists for the Windows Service Control Manager.
func run(service string) int {
	fmt.Fprintf(os.Stderr, "%s: the service host runs on Windows only\n", service)
	return 2
}
