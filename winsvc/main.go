// Command winsvc is the service host the MSI registers for Windows services whose program does not speak
// the Service Control Manager protocol (a plain console program is killed by the SCM: error 1053). The SCM
// starts `<host>.exe run <ServiceName>`; the host answers the SCM, reads its settings from the registry
// (HKLM\SYSTEM\CurrentControlSet\Services\<ServiceName>\Parameters, written by the MSI), then runs the
// program: environment = the service's defaults + the env file (read at every start, so secrets never
// live in the registry or the MSI), output appended to a log file, restarted by the restart policy,
// stopped with CTRL_BREAK then killed after the stop timeout.
//
// Standard library only, so it builds offline with Debian's Go 1.19:
//
//	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -buildid=" .
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// settings is one service's configuration (the registry values under Parameters).
type settings struct {
	Service      string
	Application  string        // AppPath: the program (absolute path)
	Args         []string      // AppParameters (REG_MULTI_SZ)
	Env          []string      // AppEnvironment (REG_MULTI_SZ): KEY=value defaults
	EnvFile      string        // AppEnvironmentFile: KEY=value lines, read at every start; may be missing
	Dir          string        // AppDirectory: working directory (created when missing)
	Log          string        // AppLog: stdout and stderr of the program and the host's own lines
	Restart      string        // AppRestart: always | on-failure | never
	RestartDelay time.Duration // AppRestartDelay (REG_DWORD, seconds)
	StopTimeout  time.Duration // AppStopTimeout (REG_DWORD, seconds)
}

// mergeEnv returns base with every KEY=value of the layers applied in order (later wins). Names compare
// case-insensitively, as Windows does.
func mergeEnv(base []string, layers ...[]string) []string {
	index := map[string]int{}
	out := make([]string, 0, len(base))
	set := func(kv string) {
		i := strings.IndexByte(kv, '=')
		if i <= 0 {
			return
		}
		key := strings.ToUpper(kv[:i])
		if j, ok := index[key]; ok {
			out[j] = kv
			return
		}
		index[key] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		set(kv)
	}
	for _, layer := range layers {
		for _, kv := range layer {
			set(kv)
		}
	}
	return out
}

func shouldRestart(policy string, code int) bool {
	switch policy {
	case "always":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}

// logger writes the host's own lines into the service log, between the program's output.
type logger struct {
	w       io.Writer
	service string
}

func (l *logger) printf(format string, a ...interface{}) {
	fmt.Fprintf(l.w, "%s %s[service-host %d]: %s\n", time.Now().UTC().Format(time.RFC3339), l.service, os.Getpid(), fmt.Sprintf(format, a...))
}

func usage() int {
	fmt.Fprintln(os.Stderr, "usage: <host>.exe run SERVICE_NAME")
	fmt.Fprintln(os.Stderr, "Runs the program configured under HKLM\\SYSTEM\\CurrentControlSet\\Services\\SERVICE_NAME\\Parameters")
	fmt.Fprintln(os.Stderr, "as a Windows service (started by the Service Control Manager) or, from a console, in the foreground.")
	return 2
}

func main() {
	if len(os.Args) != 3 || os.Args[1] != "run" {
		os.Exit(usage())
	}
	os.Exit(run(os.Args[2]))
}
