//go:build windows

// The Service Control Manager protocol with the standard library's syscall package only (the same
// approach as standin/service_windows.go): StartServiceCtrlDispatcherW, a HandlerEx and SetServiceStatus.
package main

import (
	"runtime"
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
	serviceWin32OwnProcess = 0x10

	serviceStopped      = 1
	serviceStartPending = 2
	serviceStopPending  = 3
	serviceRunning      = 4

	serviceAcceptStop     = 0x1
	serviceAcceptShutdown = 0x4

	serviceControlStop        = 1
	serviceControlInterrogate = 4
	serviceControlShutdown    = 5

	errorCallNotImplemented             = 120
	errorServiceSpecificError           = 1066
	errorFailedServiceControllerConnect = 1063
	pendingWaitHintMillis               = 30000
)

type serviceStatus struct {
	ServiceType             uint32
	CurrentState            uint32
	ControlsAccepted        uint32
	Win32ExitCode           uint32
	ServiceSpecificExitCode uint32
	CheckPoint              uint32
	WaitHint                uint32
}

type serviceTableEntry struct {
	ServiceName *uint16
	ServiceProc uintptr
}

var scm struct {
	mu       sync.Mutex
	name     *uint16
	body     func(stop <-chan string, ready func()) int
	handle   uintptr
	status   serviceStatus
	stop     chan string
	stopOnce sync.Once
	exitCode int
}

// stopWaitHintMillis is how long a stop may take (the program's stop timeout plus a margin): the SCM and
// msiexec treat a STOP_PENDING without progress past the hint as hung.
var stopWaitHintMillis uint32 = pendingWaitHintMillis

var (
	callbacksOnce       sync.Once
	serviceMainCallback uintptr
	handlerCallback     uintptr
)

// setStatusLocked reports a state to the SCM; callers hold scm.mu.
func setStatusLocked(state uint32, code int) {
	s := serviceStatus{ServiceType: serviceWin32OwnProcess, CurrentState: state}
	switch state {
	case serviceRunning:
		s.ControlsAccepted = serviceAcceptStop | serviceAcceptShutdown
	case serviceStartPending:
		s.CheckPoint = scm.status.CheckPoint + 1
		s.WaitHint = pendingWaitHintMillis
	case serviceStopPending:
		s.CheckPoint = scm.status.CheckPoint + 1
		s.WaitHint = stopWaitHintMillis
	case serviceStopped:
		if code != 0 {
			s.Win32ExitCode = errorServiceSpecificError
			s.ServiceSpecificExitCode = uint32(code)
		}
	}
	scm.status = s
	if scm.handle != 0 {
		procSetServiceStatus.Call(scm.handle, uintptr(unsafe.Pointer(&scm.status)))
	}
}

func handlerEx(control, eventType, eventData, context uintptr) uintptr {
	switch uint32(control) {
	case serviceControlStop, serviceControlShutdown:
		reason := "SERVICE_CONTROL_STOP"
		if uint32(control) == serviceControlShutdown {
			reason = "SERVICE_CONTROL_SHUTDOWN"
		}
		scm.mu.Lock()
		if scm.status.CurrentState != serviceStopped {
			setStatusLocked(serviceStopPending, 0)
		}
		scm.mu.Unlock()
		scm.stopOnce.Do(func() { scm.stop <- reason })
		return 0
	case serviceControlInterrogate:
		scm.mu.Lock()
		if scm.handle != 0 {
			procSetServiceStatus.Call(scm.handle, uintptr(unsafe.Pointer(&scm.status)))
		}
		scm.mu.Unlock()
		return 0
	}
	return errorCallNotImplemented
}

func serviceMain(argc, argv uintptr) uintptr {
	h, _, _ := procRegisterServiceCtrlHandlerExW.Call(uintptr(unsafe.Pointer(scm.name)), handlerCallback, 0)
	if h == 0 {
		scm.exitCode = 1
		return 0
	}
	scm.mu.Lock()
	scm.handle = h
	setStatusLocked(serviceStartPending, 0)
	scm.mu.Unlock()

	done := make(chan int, 1)
	go func() {
		done <- scm.body(scm.stop, func() {
			scm.mu.Lock()
			if scm.status.CurrentState == serviceStartPending {
				setStatusLocked(serviceRunning, 0)
			}
			scm.mu.Unlock()
		})
	}()
	code := <-done
	scm.exitCode = code
	scm.mu.Lock()
	setStatusLocked(serviceStopped, code)
	scm.mu.Unlock()
	return 0
}

// runAsService runs body under the SCM; handled=false when the process was not started by the SCM.
func runAsService(name string, body func(stop <-chan string, ready func()) int) (bool, int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	namePtr, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return false, 0
	}
	scm.name = namePtr
	scm.body = body
	scm.stop = make(chan string, 1)
	callbacksOnce.Do(func() {
		serviceMainCallback = syscall.NewCallback(serviceMain)
		handlerCallback = syscall.NewCallback(handlerEx)
	})
	table := []serviceTableEntry{{ServiceName: namePtr, ServiceProc: serviceMainCallback}, {}}
	r, _, _ := procStartServiceCtrlDispatcherW.Call(uintptr(unsafe.Pointer(&table[0])))
	runtime.KeepAlive(table)
	if r == 0 {
		return false, 0 // ERROR_FAILED_SERVICE_CONTROLLER_CONNECT (1063): a console, not the SCM
	}
	return true, scm.exitCode
}
