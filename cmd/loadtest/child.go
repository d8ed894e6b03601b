package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// roles are the servers the load test drives, in port order: ui N, app
// N+1, api N+2, s3 N+3, evil N+4. corslab also binds yours on N+5, which
// the load test does not use (portsNeeded).
var roles = [5]string{"ui", "app", "api", "s3", "evil"}

// portsNeeded is how many consecutive ports corslab binds: the roles and
// its yours origin.
const portsNeeded = len(roles) + 1

// moduleRoot walks up from the working directory to the one holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it: run loadtest inside the corslab module, or use -target")
		}
		dir = parent
	}
}

// buildServer builds corslab into dir and returns the binary's path.
func buildServer(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "corslab")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/corslab/corslab")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build github.com/corslab/corslab: %v\n%s", err, out)
	}
	return bin, nil
}

// buildTemp builds corslab into a new temporary directory, and checks that
// it knows every flag in args (serverFlags, checkServerFlags). It returns
// the binary, the flags it knows with their defaults, and a function that
// removes the directory.
func buildTemp(ctx context.Context, args []string, logf func(string, ...any)) (bin string, known map[string]string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "corslab-loadtest-")
	if err != nil {
		return "", nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	logf("building corslab")
	if bin, err = buildServer(ctx, dir); err == nil {
		if known, err = serverFlags(ctx, bin); err == nil {
			err = checkServerFlags(known, args)
		}
	}
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	return bin, known, cleanup, nil
}

// freePorts finds N such that N to N+5 can all be bound on 127.0.0.1 right
// now. Another process may still take one before the server does;
// startServer then tries again.
func freePorts() (int, error) {
	for range 200 {
		base := 20000 + rand.IntN(40000-portsNeeded)
		var ls []net.Listener
		for i := range portsNeeded {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if len(ls) == portsNeeded {
			return base, nil
		}
	}
	return 0, fmt.Errorf("found no %d consecutive free ports in 20000-60000", portsNeeded)
}

// server is a corslab the load test started and will stop.
type server struct {
	cmd    *exec.Cmd
	args   []string
	port   int           // the ui port; the origins follow
	exited chan struct{} // closed once the process has exited
	output *tail         // its stdout and stderr, the last lines
	// Startup is the time from exec to every port accepting connections,
	// and Healthy to the first answer of GET /healthz; HealthyCPU is the
	// CPU time (user + system) the process had used by then.
	Startup, Healthy, HealthyCPU time.Duration
}

// startServer starts bin on free ports and waits until all five accept
// connections. extra are the -server-flags.
func startServer(ctx context.Context, bin string, extra []string) (*server, error) {
	return startProgram(ctx, bin, nil, extra)
}

// startProgram is startServer for a program whose serving command line
// starts with sub, such as loadtest's own "baseline-server" (baseline.go):
// bin sub… --port N --listen 127.0.0.1 extra…
func startProgram(ctx context.Context, bin string, sub, extra []string) (*server, error) {
	var lastErr error
	for range 5 {
		port, err := freePorts()
		if err != nil {
			return nil, err
		}
		s := &server{port: port, exited: make(chan struct{}), output: &tail{}}
		s.args = append([]string{"--port", strconv.Itoa(port), "--listen", "127.0.0.1"}, extra...)
		s.cmd = exec.Command(bin, append(slices.Clip(sub), s.args...)...)
		s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
		start := time.Now()
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		go func() { s.cmd.Wait(); close(s.exited) }()

		if err = s.waitReady(ctx, start); err == nil {
			return s, nil
		}
		s.stop()
		lastErr = fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(s.args, " "), err, s.output)
		if ctx.Err() != nil || !strings.Contains(s.output.String(), "already in use") {
			break // only a port taken since freePorts is worth another try
		}
	}
	return nil, lastErr
}

// waitReady polls every port, every millisecond, until it accepts a TCP
// connection, and then GET /healthz. It measures the ports rather than
// waiting for the URL table the server prints: the table is for people.
func (s *server) waitReady(ctx context.Context, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i := range roles {
		addr := "127.0.0.1:" + strconv.Itoa(s.port+i)
		for {
			if c, err := net.DialTimeout("tcp", addr, 20*time.Millisecond); err == nil {
				c.Close()
				break
			}
			select {
			case <-s.exited:
				return errors.New("the server exited during start-up")
			case <-ctx.Done():
				return fmt.Errorf("port %s (%s) not accepting connections: %w", addr, roles[i], ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
	}
	s.Startup = time.Since(start)

	// A port accepts connections as soon as it is bound; the server may
	// still be setting up before it serves. /healthz says when it does.
	client := &http.Client{Timeout: 100 * time.Millisecond}
	for {
		resp, err := client.Get(s.url(0) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Healthy = time.Since(start)
				s.HealthyCPU, _ = cpuTime(s.cmd.Process.Pid)
				return nil
			}
		}
		select {
		case <-s.exited:
			return errors.New("the server exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("GET /healthz never answered 200: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// url is the base URL of role i's server.
func (s *server) url(i int) string { return "http://127.0.0.1:" + strconv.Itoa(s.port+i) }

func (s *server) pid() int { return s.cmd.Process.Pid }

// watch returns a context that ends with ctx or when the server exits: a
// server that dies under load ends the test.
func (s *server) watch(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// exitError says that the server has exited, how, and its last lines; nil
// while it runs.
func (s *server) exitError() error {
	select {
	case <-s.exited:
		return fmt.Errorf("the server exited during the test (%v):\n%s", s.cmd.ProcessState, lastLines(s.output.String(), 20))
	default:
		return nil
	}
}

// stop asks the server to stop (SIGTERM: it says goodbye on every
// websocket and waits up to 5 s for requests in flight), and kills it if it
// has not exited 8 s later. It is safe to call more than once.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(8 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// measureStartups starts bin k times, stopping it each time, and returns
// the start-up times (exec → five ports accepting) and the times to the
// first /healthz answer, each sorted.
func measureStartups(ctx context.Context, bin string, extra []string, k int) (ports, healthy, cpu []time.Duration, err error) {
	for range k {
		s, err := startServer(ctx, bin, extra)
		if err != nil {
			return nil, nil, nil, err
		}
		s.stop()
		ports = append(ports, s.Startup)
		healthy = append(healthy, s.Healthy)
		cpu = append(cpu, s.HealthyCPU)
	}
	slices.Sort(ports)
	slices.Sort(healthy)
	slices.Sort(cpu)
	return ports, healthy, cpu, nil
}

// tail keeps the last 64 KiB a process wrote, for error messages, and
// counts its warning and error log lines, and the lines that mention a
// panic (a recovered one is logged; an unrecovered one kills the process).
type tail struct {
	mu            sync.Mutex
	buf           []byte
	warns, errs   int
	partial       []byte // an unfinished line
	firstProblems []string
	panics        int
	firstPanic    string
}

const tailMax = 64 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	// Count slog's level=WARN and level=ERROR lines, line by line.
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := string(t.partial[:i])
		t.partial = t.partial[i+1:]
		problem := true
		switch {
		case strings.Contains(line, "level=WARN"):
			t.warns++
		case strings.Contains(line, "level=ERROR"):
			t.errs++
		default:
			problem = false
		}
		if problem && len(t.firstProblems) < 5 {
			t.firstProblems = append(t.firstProblems, line)
		}
		if strings.Contains(line, "panic") {
			if t.panics == 0 {
				t.firstPanic = line
			}
			t.panics++
		}
	}
	if len(t.partial) > tailMax {
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// problems returns the counts of warning and error lines, and the first few.
func (t *tail) problems() (warns, errs int, first []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.warns, t.errs, slices.Clone(t.firstProblems)
}

// panicLines returns how many lines mentioned a panic, and the first.
func (t *tail) panicLines() (n int, first string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.panics, t.firstPanic
}
