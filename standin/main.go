// Command standin is the stand-in payload that `stigmer-dist build --snapshot` packages instead of
// the real Stigmer binaries: a small real executable that behaves enough like the component it
// replaces (version output, listening ports, a health endpoint, clean stop on the service
// manager's signal, PyInstaller-style unpacking for frozen components) to prove a package installs,
// starts, is reachable and stops.
//
// Its per-component configuration is baked in at link time:
//
//	go build -ldflags "-X main.configB64=<base64 of JSON>"
//
// Standard library only: it is built offline with Debian's Go 1.19.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// configB64 is set with -ldflags "-X main.configB64=...".
var configB64 string

type portConfig struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

type healthConfig struct {
	Type string `json:"type"`
	Port string `json:"port"`
	Path string `json:"path"`
}

type config struct {
	Component  string        `json:"component"`
	Binary     string        `json:"binary"`
	Version    string        `json:"version"`
	Ports      []portConfig  `json:"ports"`
	Health     *healthConfig `json:"health"`
	Env        []string      `json:"env"`
	Secrets    []string      `json:"secrets"`
	Frozen     bool          `json:"frozen"`
	StopSignal string        `json:"stopSignal"`
	// Contract (may be nil): the upstream program's command line; anything else is refused at start.
	Contract *flagContract `json:"contract"`
	// VersionOutput (may be empty): what the upstream program prints for --version.
	VersionOutput string `json:"versionOutput"`
}

// meiEnv marks the unpacked copy a frozen stand-in runs, so the copy does not unpack itself again
// (PyInstaller's bootloader passes the same information to its child process).
const meiEnv = "_STIGMER_STANDIN_MEIPASS"

var logger = log.New(os.Stdout, "", 0)

func logf(cfg *config, format string, a ...interface{}) {
	logger.Printf("%s %s[%d]: %s", time.Now().UTC().Format(time.RFC3339), cfg.Binary, os.Getpid(), fmt.Sprintf(format, a...))
}

func main() {
	os.Exit(run())
}

func loadConfig() (*config, error) {
	if configB64 == "" {
		return nil, errors.New("no configuration baked in (build with -ldflags \"-X main.configB64=...\")")
	}
	raw, err := base64.StdEncoding.DecodeString(configB64)
	if err != nil {
		return nil, fmt.Errorf("baked-in configuration is not base64: %v", err)
	}
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("baked-in configuration is not valid JSON: %v", err)
	}
	if cfg.Binary == "" {
		cfg.Binary = cfg.Component
	}
	return &cfg, nil
}

func run() int {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stigmer-dist stand-in: %v\n", err)
		return 2
	}
	args := os.Args[1:]

	// A frozen (PyInstaller one-file) program: this process is the bootloader, the program runs as its child.
	if cfg.Frozen && os.Getenv(meiEnv) == "" {
		code, done, cleanup := bootloader(cfg, args)
		if cleanup != nil {
			defer cleanup()
		}
		if done {
			return code
		}
	}

	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		if cfg.VersionOutput != "" {
			fmt.Println(cfg.VersionOutput)
			return 0
		}
		fmt.Printf("%s %s (stigmer-dist stand-in for %s)\n", cfg.Binary, cfg.Version, cfg.Component)
		return 0
	}

	if cfg.Contract != nil {
		if msg := cfg.Contract.check(args); msg != "" {
			// cobra's words, and its exit status.
			fmt.Fprintf(os.Stderr, "Error: %s\n(stigmer-dist stand-in for %s %s: refusing a command line the real program refuses)\n", msg, cfg.Contract.Program, cfg.Contract.Version)
			return 1
		}
	}

	if len(cfg.Ports) == 0 {
		if len(args) == 0 {
			fmt.Printf("usage: %s [--version] COMMAND [ARGS...] (stigmer-dist stand-in for %s %s)\n", cfg.Binary, cfg.Component, cfg.Version)
			return 0
		}
		fmt.Printf("%s %s (stigmer-dist stand-in for %s): ignoring %s\n", cfg.Binary, cfg.Version, cfg.Component, quoteArgs(args))
		return 0
	}

	// Started by the Windows Service Control Manager: speak its protocol (no-op elsewhere).
	if handled, code := runAsWindowsService(cfg.Binary, func(stop <-chan string, ready func()) int {
		return serve(cfg, args, stop, ready)
	}); handled {
		return code
	}

	stop := make(chan string, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	// Every signal is logged (a frozen program's bootloader forwards what it gets: the log shows how many
	// arrived); the first one stops the service.
	go func() {
		for s := range sigs {
			logf(cfg, "signal %s received", signalName(s))
			select {
			case stop <- signalName(s):
			default:
			}
		}
	}()
	return serve(cfg, args, stop, nil)
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

func quoteArgs(args []string) string {
	b, _ := json.Marshal(args)
	if args == nil {
		return "[]"
	}
	return string(b)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type healthResponse struct {
	Status     string            `json:"status"`
	Component  string            `json:"component"`
	Binary     string            `json:"binary"`
	Version    string            `json:"version"`
	Pid        int               `json:"pid"`
	Ppid       int               `json:"ppid"`
	Uid        int               `json:"uid"`
	User       string            `json:"user"`
	Args       []string          `json:"args"`
	WorkingDir string            `json:"workingDir"`
	Tmpdir     string            `json:"tmpdir"`
	Meipass    string            `json:"meipass,omitempty"`
	Ports      []portConfig      `json:"ports"`
	Env        map[string]string `json:"env"`
	Secrets    map[string]string `json:"secrets"`
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return os.Getenv("USERNAME")
}

// secretDigest reports whether a secret is set without revealing it.
func secretDigest(name string) string {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "unset"
	}
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:])[:16]
}

func health(cfg *config, args []string) healthResponse {
	wd, _ := os.Getwd()
	env := map[string]string{}
	for _, n := range cfg.Env {
		env[n] = os.Getenv(n)
	}
	secrets := map[string]string{}
	for _, n := range cfg.Secrets {
		secrets[n] = secretDigest(n)
	}
	if args == nil {
		args = []string{}
	}
	ports := cfg.Ports
	if ports == nil {
		ports = []portConfig{}
	}
	return healthResponse{
		Status:     "ok",
		Component:  cfg.Component,
		Binary:     cfg.Binary,
		Version:    cfg.Version,
		Pid:        os.Getpid(),
		Ppid:       os.Getppid(),
		Uid:        os.Getuid(),
		User:       currentUser(),
		Args:       args,
		WorkingDir: wd,
		Tmpdir:     os.TempDir(),
		Meipass:    os.Getenv(meiEnv),
		Ports:      ports,
		Env:        env,
		Secrets:    secrets,
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// serve listens on every declared port until stop delivers a reason, then shuts down gracefully.
// ready (may be nil) is called once every port is listening.
func serve(cfg *config, args []string, stop <-chan string, ready func()) int {
	wd, _ := os.Getwd()
	stopSignal := cfg.StopSignal
	if stopSignal == "" {
		stopSignal = "SIGTERM"
	}
	logf(cfg, "starting %s %s (stigmer-dist stand-in for %s) pid=%d uid=%d user=%q cwd=%q tmpdir=%q meipass=%q stop-signal=%s args=%s",
		cfg.Binary, cfg.Version, cfg.Component, os.Getpid(), os.Getuid(), currentUser(), wd, os.TempDir(), os.Getenv(meiEnv), stopSignal, quoteArgs(args))

	healthPath := "/healthz"
	if cfg.Health != nil && cfg.Health.Path != "" {
		healthPath = cfg.Health.Path
	}

	var servers []*http.Server
	var wg sync.WaitGroup
	failed := make(chan string, len(cfg.Ports))
	for _, p := range cfg.Ports {
		p := p
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			logf(cfg, "error: cannot listen on %s (%s): %v", addr, p.Name, err)
			for _, s := range servers {
				s.Close()
			}
			return 1
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case healthPath:
				w.Header().Set("Content-Type", "application/json")
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				_ = enc.Encode(health(cfg, args))
			case "/":
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				fmt.Fprintf(w, "%s %s (stigmer-dist stand-in for %s) port %s=%d; health: %s\n", cfg.Binary, cfg.Version, cfg.Component, p.Name, p.Port, healthPath)
			default:
				http.NotFound(w, r)
			}
		})
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
			mux.ServeHTTP(rec, r)
			logf(cfg, "%s %s from %s on %s -> %d", r.Method, r.URL.Path, r.RemoteAddr, p.Name, rec.code)
		})
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		logf(cfg, "listening on http://%s (%s)", addr, p.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
				failed <- fmt.Sprintf("serving %s (%s): %v", addr, p.Name, err)
			}
		}()
	}
	logf(cfg, "ready; health check: GET %s", healthPath)
	if ready != nil {
		ready()
	}

	code := 0
	select {
	case reason := <-stop:
		logf(cfg, "received %s, shutting down", reason)
	case msg := <-failed:
		logf(cfg, "error: %s, shutting down", msg)
		code = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			logf(cfg, "error: graceful shutdown: %v", err)
			s.Close()
		}
	}
	wg.Wait()
	logf(cfg, "stopped (exit %d)", code)
	return code
}
