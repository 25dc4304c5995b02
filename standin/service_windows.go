//go:build windows

// The stand-in as a Windows service: the SCM protocol itself is the shared package winscm (also used by the
// MSI's service host); what is the stand-in's own is telling the SCM's children from everything else quickly.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"stigmer-dist/winscm"
)

// runAsWindowsService runs body under the SCM when the SCM started this process. It returns
// handled=false when the process runs interactively (a console, a test, a wrapper).
func runAsWindowsService(name string, body func(stop <-chan string, ready func()) int) (bool, int) {
	// StartServiceCtrlDispatcherW only fails (1063) after a wait when the process is not a service
	// (about 10 s under wine), which delays every interactive or wrapped start: the SCM is the parent
	// of every service process it starts, so anything else runs interactively at once.
	if parent, ok := parentImageName(); ok && !strings.EqualFold(parent, "services.exe") {
		return false, 0
	}
	handled, code, err := winscm.Run(name, 30*time.Second, body)
	if err != nil {
		// The dispatcher could not start for another reason; run interactively rather than die.
		fmt.Fprintf(os.Stderr, "%s: StartServiceCtrlDispatcherW: %v; running interactively\n", name, err)
	}
	return handled, code
}

// parentImageName is the executable name of the parent process (ok=false when it cannot be told).
func parentImageName() (string, bool) {
	snap, err := syscall.CreateToolhelp32Snapshot(syscall.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return "", false
	}
	defer syscall.CloseHandle(snap)
	names := map[uint32]string{}
	parentPid := uint32(0)
	found := false
	self := uint32(os.Getpid())
	var e syscall.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = syscall.Process32First(snap, &e); err == nil; err = syscall.Process32Next(snap, &e) {
		names[e.ProcessID] = syscall.UTF16ToString(e.ExeFile[:])
		if e.ProcessID == self {
			parentPid, found = e.ParentProcessID, true
		}
	}
	if !found {
		return "", false
	}
	name, ok := names[parentPid]
	if !ok {
		return "", true // the parent has exited: not the SCM, which outlives its services
	}
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	return name, true
}
