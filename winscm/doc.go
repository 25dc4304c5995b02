// Package winscm speaks the Windows Service Control Manager protocol with the standard library's syscall
// package only (golang.org/x/sys/windows is not available offline): StartServiceCtrlDispatcherW, a HandlerEx
// and SetServiceStatus. A process the SCM starts must call the dispatcher promptly and report its state, or
// Windows kills it (error 1053). Shared by the stand-in payloads (standin/) and the MSI's service host
// (winsvc/); built into both at the fixed import path stigmer-dist/winscm (src/util/go-build.ts).
package winscm
