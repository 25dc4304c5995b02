//go:build !windows

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// bootloader is the POSIX PyInstaller one-file bootloader (bootloader/src/pyi_utils_posix.c): unpack, run
// the program as a child with the same arguments, forward every signal it gets except SIGCHLD and SIGTSTP
// to the child, wait for it, remove the unpack directory, and end as the child ended. So the service
// manager's stop signal reaches the program twice when it signals the whole group (KillMode=control-group):
// once directly and once forwarded.
func bootloader(cfg *config, args []string) (int, bool, func()) {
	dir, program, err := unpack()
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "[PYI-%d:ERROR] Failed to extract/execute in %s: %v\n", os.Getpid(), dir, err)
		return 1, true, nil
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	cmd := exec.Command(program, args...)
	cmd.Env = append(os.Environ(), meiEnv+"="+dir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		signal.Stop(sigs)
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "[PYI-%d:ERROR] Failed to extract/execute in %s: %v\n", os.Getpid(), dir, err)
		return 1, true, nil
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// SIGURG is the Go runtime's own preemption signal, not one a bootloader would see.
				if s == syscall.SIGCHLD || s == syscall.SIGTSTP || s == syscall.SIGURG {
					continue
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	signal.Stop(sigs)
	os.RemoveAll(dir)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// The bootloader ends the way its child did: by the same signal.
			signal.Reset(ws.Signal())
			_ = syscall.Kill(os.Getpid(), ws.Signal())
			return 128 + int(ws.Signal()), true, nil
		}
		return exit.ExitCode(), true, nil
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "[PYI-%d:ERROR] %v\n", os.Getpid(), err)
		return 1, true, nil
	}
	return 0, true, nil
}
