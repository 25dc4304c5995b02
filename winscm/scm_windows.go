//go:build windows

package winscm

import (
	"runtime"
	"sync"
	"syscall"
	"time"
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
	startWaitHintMillis                 = 30000
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

// One service per process: the SCM calls back into this state.
var scm struct {
	mu       sync.Mutex
	name     *uint16
	body     func(stop <-chan string, ready func()) int
	handle   uintptr
	status   serviceStatus
	stop     chan string
	stopOnce sync.Once
	exitCode int
	// How long a stop may take: the SCM and msiexec treat a STOP_PENDING without progress past it as hung.
	stopWaitHintMillis uint32
}

// Callbacks are never freed by the runtime, so they are created once.
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
		s.WaitHint = startWaitHintMillis
	case serviceStopPending:
		s.CheckPoint = scm.status.CheckPoint + 1
		s.WaitHint = scm.stopWaitHintMillis
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

// handlerEx is the HandlerEx callback: DWORD (DWORD control, DWORD eventType, LPVOID eventData, LPVOID context).
// It runs on the dispatcher's thread and must return quickly.
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

// serviceMain is the ServiceMain callback: VOID (DWORD argc, LPWSTR *argv). The SCM runs it on a thread of its
// own; the service runs until it returns after reporting SERVICE_STOPPED.
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

// Run runs body as the service `name` when the SCM started this process: body gets a channel that receives
// the stop reason and a function to call once it is ready (SERVICE_RUNNING); its return value is the
// service's exit code. stopWait is how long a stop may take. handled=false when the process was not started
// by the SCM (a console, a test, a wrapper): the caller then runs interactively; err says why the dispatcher
// failed when that was not the plain "not a service" answer (1063).
func Run(name string, stopWait time.Duration, body func(stop <-chan string, ready func()) int) (handled bool, code int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	namePtr, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return false, 0, err
	}
	scm.name = namePtr
	scm.body = body
	scm.stop = make(chan string, 1)
	scm.stopWaitHintMillis = uint32(stopWait / time.Millisecond)
	callbacksOnce.Do(func() {
		serviceMainCallback = syscall.NewCallback(serviceMain)
		handlerCallback = syscall.NewCallback(handlerEx)
	})
	// Single service in its own process: the SCM ignores the name, the binary name is used.
	table := []serviceTableEntry{{ServiceName: namePtr, ServiceProc: serviceMainCallback}, {}}
	r, _, e := procStartServiceCtrlDispatcherW.Call(uintptr(unsafe.Pointer(&table[0])))
	runtime.KeepAlive(table)
	if r == 0 {
		if errno, ok := e.(syscall.Errno); ok && errno == errorFailedServiceControllerConnect {
			return false, 0, nil
		}
		return false, 0, e
	}
	return true, scm.exitCode, nil
}
