//go:build windows

// The Windows Service Control Manager protocol, with the standard library's syscall package only
// (golang.org/x/sys/windows is not available offline). A process the SCM starts must call
// StartServiceCtrlDispatcherW promptly and report its state, or Windows kills it (error 1053).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

var (
	advapi32                          = syscall.NewLazyDLL("advapi32.dll")
	procStartServiceCtrlDispatcherW   = advapi32.NewProc("StartServiceCtrlDispatcherW")
	procRegisterServiceCtrlHandlerExW = advapi32.NewProc("RegisterServiceCtrlHandlerExW")
	procSetServiceStatus              = advapi32.NewProc("SetServiceStatus")
)

const (
	serviceWin32OwnProcess = 0x00000010

	serviceStopped      = 1
	serviceStartPending = 2
	serviceStopPending  = 3
	serviceRunning      = 4

	serviceAcceptStop     = 0x00000001
	serviceAcceptShutdown = 0x00000004

	serviceControlStop        = 1
	serviceControlInterrogate = 4
	serviceControlShutdown    = 5

	errorCallNotImplemented                    = 120
	errorServiceSpecificError                  = 1066
	errorFailedServiceControllerConnect        = 1063
	pendingWaitHintMillis               uint32 = 30000
)

// SERVICE_STATUS
type serviceStatus struct {
	ServiceType             uint32
	CurrentState            uint32
	ControlsAccepted        uint32
	Win32ExitCode           uint32
	ServiceSpecificExitCode uint32
	CheckPoint              uint32
	WaitHint                uint32
}

// SERVICE_TABLE_ENTRYW
type serviceTableEntry struct {
	ServiceName *uint16
	ServiceProc uintptr
}

var svc struct {
	mu       sync.Mutex
	name     *uint16
	body     func(stop <-chan string, ready func()) int
	handle   uintptr
	status   serviceStatus
	stop     chan string
	stopOnce sync.Once
	exitCode int
}

// Callbacks are never freed by the runtime, so they are created once.
var (
	callbacksOnce       sync.Once
	serviceMainCallback uintptr
	handlerCallback     uintptr
)

// setStatus reports a state to the SCM. Callers hold svc.mu.
func setStatusLocked(state uint32, code int) {
	s := serviceStatus{ServiceType: serviceWin32OwnProcess, CurrentState: state}
	switch state {
	case serviceRunning:
		s.ControlsAccepted = serviceAcceptStop | serviceAcceptShutdown
	case serviceStartPending, serviceStopPending:
		s.CheckPoint = svc.status.CheckPoint + 1
		s.WaitHint = pendingWaitHintMillis
	case serviceStopped:
		if code != 0 {
			s.Win32ExitCode = errorServiceSpecificError
			s.ServiceSpecificExitCode = uint32(code)
		}
	}
	svc.status = s
	if svc.handle != 0 {
		procSetServiceStatus.Call(svc.handle, uintptr(unsafe.Pointer(&svc.status)))
	}
}

func setStatus(state uint32, code int) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	setStatusLocked(state, code)
}

func requestStop(reason string) {
	svc.stopOnce.Do(func() { svc.stop <- reason })
}

// handlerEx is the HandlerEx callback: DWORD (DWORD control, DWORD eventType, LPVOID eventData, LPVOID context).
// It runs on the dispatcher's thread and must return quickly.
func handlerEx(control, eventType, eventData, context uintptr) uintptr {
	switch uint32(control) {
	case serviceControlStop, serviceControlShutdown:
		reason := "SERVICE_CONTROL_STOP"
		if uint32(control) == serviceControlShutdown {
			reason = "SERVICE_CONTROL_SHUTDOWN"
		}
		svc.mu.Lock()
		if svc.status.CurrentState != serviceStopped {
			setStatusLocked(serviceStopPending, 0)
		}
		svc.mu.Unlock()
		requestStop(reason)
		return 0
	case serviceControlInterrogate:
		svc.mu.Lock()
		if svc.handle != 0 {
			procSetServiceStatus.Call(svc.handle, uintptr(unsafe.Pointer(&svc.status)))
		}
		svc.mu.Unlock()
		return 0
	}
	return errorCallNotImplemented
}

// serviceMain is the ServiceMain callback: VOID (DWORD argc, LPWSTR *argv). The SCM runs it on a
// thread of its own; the service runs until it returns after reporting SERVICE_STOPPED.
func serviceMain(argc, argv uintptr) uintptr {
	h, _, _ := procRegisterServiceCtrlHandlerExW.Call(uintptr(unsafe.Pointer(svc.name)), handlerCallback, 0)
	if h == 0 {
		svc.exitCode = 1
		return 0
	}
	svc.mu.Lock()
	svc.handle = h
	setStatusLocked(serviceStartPending, 0)
	svc.mu.Unlock()

	done := make(chan int, 1)
	go func() {
		done <- svc.body(svc.stop, func() {
			svc.mu.Lock()
			if svc.status.CurrentState == serviceStartPending {
				setStatusLocked(serviceRunning, 0)
			}
			svc.mu.Unlock()
		})
	}()
	code := <-done
	svc.exitCode = code
	setStatus(serviceStopped, code)
	return 0
}

// runAsWindowsService runs body under the SCM when the SCM started this process. It returns
// handled=false when the process runs interactively (a console, a test, a wrapper).
func runAsWindowsService(name string, body func(stop <-chan string, ready func()) int) (bool, int) {
	// StartServiceCtrlDispatcherW only fails (1063) after a wait when the process is not a service
	// (about 10 s under wine), which delays every interactive or wrapped start: the SCM is the parent
	// of every service process it starts, so anything else runs interactively at once.
	if parent, ok := parentImageName(); ok && !strings.EqualFold(parent, "services.exe") {
		return false, 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	namePtr, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return false, 0
	}
	svc.name = namePtr
	svc.body = body
	svc.stop = make(chan string, 1)
	callbacksOnce.Do(func() {
		serviceMainCallback = syscall.NewCallback(serviceMain)
		handlerCallback = syscall.NewCallback(handlerEx)
	})
	// Single service in its own process: the SCM ignores the name, the binary name is used.
	table := []serviceTableEntry{
		{ServiceName: namePtr, ServiceProc: serviceMainCallback},
		{ServiceName: nil, ServiceProc: 0},
	}
	r, _, e := procStartServiceCtrlDispatcherW.Call(uintptr(unsafe.Pointer(&table[0])))
	runtime.KeepAlive(table)
	if r == 0 {
		if errno, ok := e.(syscall.Errno); ok && errno == errorFailedServiceControllerConnect {
			return false, 0 // not started by the SCM: run interactively
		}
		// The dispatcher could not start for another reason; run interactively rather than die.
		fmt.Fprintf(os.Stderr, "%s: StartServiceCtrlDispatcherW: %v; running interactively\n", name, e)
		return false, 0
	}
	return true, svc.exitCode
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
