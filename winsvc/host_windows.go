//go:build windows

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	"unicode/utf16"

	"stigmer-dist/winscm"
)

var (
	kernel32                     = syscall.NewLazyDLL("kernel32.dll")
	procAllocConsole             = kernel32.NewProc("AllocConsole")
	procGetConsoleWindow         = kernel32.NewProc("GetConsoleWindow")
	procGenerateConsoleCtrlEvent = kernel32.NewProc("GenerateConsoleCtrlEvent")
	user32                       = syscall.NewLazyDLL("user32.dll")
	procShowWindow               = user32.NewProc("ShowWindow")
)

const (
	ctrlBreakEvent = 1
	swHide         = 0
)

func parametersKey(service string) string {
	return `SYSTEM\CurrentControlSet\Services\` + service + `\Parameters`
}

// regValue reads one value of an open key; ok=false when the value does not exist.
func regValue(h syscall.Handle, name string) (typ uint32, data []byte, ok bool, err error) {
	namePtr, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return 0, nil, false, err
	}
	n := uint32(256)
	for {
		buf := make([]byte, n)
		err = syscall.RegQueryValueEx(h, namePtr, nil, &typ, &buf[0], &n)
		if err == nil {
			return typ, buf[:n], true, nil
		}
		if err == syscall.ERROR_FILE_NOT_FOUND {
			return 0, nil, false, nil
		}
		if err != syscall.ERROR_MORE_DATA {
			return 0, nil, false, fmt.Errorf("reading %s: %v", name, err)
		}
	}
}

func utf16Strings(data []byte) []string {
	u := make([]uint16, len(data)/2)
	for i := range u {
		u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
	}
	var out []string
	start := 0
	for i, c := range u {
		if c == 0 {
			if i == start {
				return out // the empty string that ends a REG_MULTI_SZ
			}
			out = append(out, string(utf16.Decode(u[start:i])))
			start = i + 1
		}
	}
	if start < len(u) {
		out = append(out, string(utf16.Decode(u[start:])))
	}
	return out
}

func loadSettings(service string) (*settings, error) {
	var h syscall.Handle
	keyPtr, _ := syscall.UTF16PtrFromString(parametersKey(service))
	if err := syscall.RegOpenKeyEx(syscall.HKEY_LOCAL_MACHINE, keyPtr, 0, syscall.KEY_READ, &h); err != nil {
		return nil, fmt.Errorf(`HKLM\%s: %v (reinstall the package that registered %s)`, parametersKey(service), err, service)
	}
	defer syscall.RegCloseKey(h)
	s := &settings{Service: service, Restart: "on-failure", RestartDelay: 2 * time.Second, StopTimeout: 30 * time.Second}
	str := func(name string, dst *string, required bool) error {
		typ, data, ok, err := regValue(h, name)
		if err != nil {
			return err
		}
		if !ok {
			if required {
				return fmt.Errorf(`HKLM\%s has no %s value`, parametersKey(service), name)
			}
			return nil
		}
		if typ != syscall.REG_SZ && typ != syscall.REG_EXPAND_SZ {
			return fmt.Errorf("%s: expected a string value (type %d)", name, typ)
		}
		if v := utf16Strings(data); len(v) > 0 {
			*dst = v[0]
		}
		return nil
	}
	multi := func(name string, dst *[]string) error {
		typ, data, ok, err := regValue(h, name)
		if err != nil || !ok {
			return err
		}
		if typ != syscall.REG_MULTI_SZ {
			return fmt.Errorf("%s: expected a REG_MULTI_SZ value (type %d)", name, typ)
		}
		*dst = utf16Strings(data)
		return nil
	}
	seconds := func(name string, dst *time.Duration) error {
		typ, data, ok, err := regValue(h, name)
		if err != nil || !ok {
			return err
		}
		if typ != syscall.REG_DWORD || len(data) < 4 {
			return fmt.Errorf("%s: expected a REG_DWORD value (type %d)", name, typ)
		}
		*dst = time.Duration(uint32(data[0])|uint32(data[1])<<8|uint32(data[2])<<16|uint32(data[3])<<24) * time.Second
		return nil
	}
	for _, err := range []error{
		str("AppPath", &s.Application, true),
		multi("AppParameters", &s.Args),
		multi("AppEnvironment", &s.Env),
		str("AppEnvironmentFile", &s.EnvFile, false),
		str("AppDirectory", &s.Dir, false),
		str("AppLog", &s.Log, false),
		str("AppRestart", &s.Restart, false),
		seconds("AppRestartDelay", &s.RestartDelay),
		seconds("AppStopTimeout", &s.StopTimeout),
	} {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// console gives the host a (hidden) console the program inherits, so a CTRL_BREAK can reach it.
func console() bool {
	if w, _, _ := procGetConsoleWindow.Call(); w != 0 {
		return true
	}
	if r, _, _ := procAllocConsole.Call(); r == 0 {
		return false
	}
	if w, _, _ := procGetConsoleWindow.Call(); w != 0 {
		procShowWindow.Call(w, swHide)
	}
	return true
}

// supervise runs the program until stop delivers, restarting it by the policy. ready is called once the
// program has started for the first time.
func supervise(s *settings, stop <-chan string, ready func()) int {
	out := os.Stderr
	if s.Log != "" {
		if err := os.MkdirAll(filepath.Dir(s.Log), 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", s.Service, err)
			return 1
		}
		f, err := os.OpenFile(s.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", s.Service, err)
			return 1
		}
		defer f.Close()
		out = f
	}
	log := &logger{w: out, service: s.Service}
	canSignal := console()
	if s.Dir != "" {
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			log.printf("error: working directory %s: %v", s.Dir, err)
			return 1
		}
	}
	started := false
	for {
		fileEnv, skipped, err := readEnvFile(s.EnvFile)
		if err != nil {
			log.printf("error: env file: %v", err)
			return 1
		}
		for _, d := range clearStaleUnpackDirs(s.Env) {
			log.printf("removed %s, left by an earlier run that did not exit normally", d)
		}
		for _, line := range skipped {
			log.printf("warning: %s (%s)", line, envFileDoc)
		}
		cmd := exec.Command(s.Application, s.Args...)
		cmd.Dir = s.Dir
		cmd.Env = mergeEnv(os.Environ(), s.Env, fileEnv)
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
		if err := cmd.Start(); err != nil {
			log.printf("error: cannot start %s: %v", s.Application, err)
			return 1
		}
		log.printf("started %s (pid %d, env file %s: %d entries)", s.Application, cmd.Process.Pid, s.EnvFile, len(fileEnv))
		if !started {
			started = true
			ready()
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var code int
		select {
		case reason := <-stop:
			log.printf("%s: stopping pid %d", reason, cmd.Process.Pid)
			return stopProgram(log, cmd, done, s.StopTimeout, canSignal)
		case err := <-done:
			code = exitCode(err)
		}
		if !shouldRestart(s.Restart, code) {
			log.printf("program exited with code %d; restart policy %s: service stops", code, s.Restart)
			return code
		}
		log.printf("program exited with code %d; restart policy %s: restarting in %s", code, s.Restart, s.RestartDelay)
		select {
		case reason := <-stop:
			log.printf("%s while waiting to restart", reason)
			return 0
		case <-time.After(s.RestartDelay):
		}
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

// stopProgram asks the program to stop (CTRL_BREAK: Go sees os.Interrupt, Python KeyboardInterrupt/SIGBREAK)
// and kills it when it has not exited after the stop timeout.
func stopProgram(log *logger, cmd *exec.Cmd, done <-chan error, timeout time.Duration, canSignal bool) int {
	if canSignal {
		if r, _, err := procGenerateConsoleCtrlEvent.Call(ctrlBreakEvent, uintptr(cmd.Process.Pid)); r == 0 {
			log.printf("CTRL_BREAK to pid %d failed (%v)", cmd.Process.Pid, err)
			timeout = 0
		}
	} else {
		timeout = 0
	}
	select {
	case err := <-done:
		log.printf("program stopped (exit code %d)", exitCode(err))
		return 0
	case <-time.After(timeout):
	}
	log.printf("program still running after %s: killing pid %d", timeout, cmd.Process.Pid)
	_ = cmd.Process.Kill()
	<-done
	return 0
}

func run(service string) int {
	s, err := loadSettings(service)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		// Under the SCM, report the failure as the service's exit code instead of timing out (error 1053).
		_, _, _ = winscm.Run(service, 30*time.Second, func(stop <-chan string, ready func()) int { return 1 })
		return 1
	}
	// The stop may take the program's stop timeout plus a margin before the SCM calls it hung.
	handled, code, err := winscm.Run(service, s.StopTimeout+5*time.Second, func(stop <-chan string, ready func()) int { return supervise(s, stop, ready) })
	if handled {
		return code
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: StartServiceCtrlDispatcherW: %v; running interactively\n", service, err)
	}
	// Started from a console: run in the foreground until Ctrl+C.
	stop := make(chan string, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	go func() {
		<-sigs
		stop <- "interrupt"
	}()
	return supervise(s, stop, func() {})
}
