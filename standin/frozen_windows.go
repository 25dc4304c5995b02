package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// bootloader on Windows only proves the unpack works (the program's copy answers --version) and then runs
// the program in this process, removing the unpack directory at exit: the Windows bootloader forwards no
// signals (it handles console-control events only; pyinstaller issue #4858), and under the Service Control
// Manager the service must be this process.
func bootloader(cfg *config, args []string) (int, bool, func()) {
	dir, program, err := unpack()
	cleanup := func() { os.RemoveAll(dir) }
	if err == nil {
		cmd := exec.Command(program, "--version")
		cmd.Env = append(os.Environ(), meiEnv+"="+dir)
		var out []byte
		if out, err = cmd.CombinedOutput(); err != nil {
			if msg := strings.TrimSpace(string(out)); msg != "" {
				err = fmt.Errorf("%v: %s", err, msg)
			}
		}
	}
	if err != nil {
		cleanup()
		fmt.Fprintf(os.Stderr, "[PYI-%d:ERROR] Failed to extract/execute in %s: %v\n", os.Getpid(), dir, err)
		return 1, true, nil
	}
	return 0, false, cleanup
}
