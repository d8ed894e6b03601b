package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readMem returns a process's resident set size and its peak (VmRSS and
// VmHWM in /proc/<pid>/status), in bytes.
func readMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "VmRSS" && name != "VmHWM" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %v", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, sc.Err()
}

// cpuTime is the CPU time (user and system) a process has used so far,
// from /proc/<pid>/stat, whose clock ticks are USER_HZ, 100 a second on
// every Linux.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields after the last ')'. utime and stime are fields 14 and 15.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

// cpuUsage is the CPU used over a test, in cores on average.
type cpuUsage struct {
	Cores    int     `json:"cores"`         // this machine's
	Server   float64 `json:"serverCores"`   // the server
	Loadtest float64 `json:"loadtestCores"` // this program
	Machine  float64 `json:"machineCores"`  // every process
	Others   float64 `json:"otherCores"`    // other processes, competing with both
}

// A cpuMeter measures cpuUsage from when startCPU made it.
type cpuMeter struct {
	pid                   int // the server's; 0 if unknown
	server, own, machine  time.Duration
	serverErr, machineErr error
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, own: ownCPU(), serverErr: errors.New("no pid")}
	if pid > 0 {
		m.server, m.serverErr = cpuTime(pid)
	}
	m.machine, m.machineErr = machineBusy()
	return m
}

// usage is the CPU used since the start, averaged over window, how long
// the traffic lasted.
func (m cpuMeter) usage(window time.Duration) cpuUsage {
	u := cpuUsage{Cores: runtime.NumCPU()}
	if window <= 0 {
		return u
	}
	if s, err := cpuTime(m.pid); err == nil && m.serverErr == nil {
		u.Server = (s - m.server).Seconds() / window.Seconds()
	}
	u.Loadtest = (ownCPU() - m.own).Seconds() / window.Seconds()
	// Other processes on the machine take CPU from both: say how much.
	if busy, err := machineBusy(); err == nil && m.machineErr == nil {
		u.Machine = (busy - m.machine).Seconds() / window.Seconds()
		u.Others = max(0, u.Machine-u.Server-u.Loadtest)
	}
	return u
}

// ownCPU is the CPU time the load generator itself has used.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memSampler reads a process's RSS every second while it runs.
type memSampler struct {
	pid int

	mu      sync.Mutex
	samples []memSample // one a second: 7,200 for a two-hour soak
	peak    int64       // the highest VmHWM seen
	err     error       // the first read error
}

type memSample struct {
	At  time.Time
	RSS int64
}

func newMemSampler(pid int) *memSampler {
	return &memSampler{pid: pid}
}

// run samples every interval until ctx is done.
func (m *memSampler) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		m.sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sample reads the RSS now, keeps it, and returns it (0 if it could not).
func (m *memSampler) sample() int64 {
	rss, hwm, err := readMem(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.err == nil {
			m.err = err
		}
		return 0
	}
	m.samples = append(m.samples, memSample{time.Now(), rss})
	m.peak = max(m.peak, hwm, rss)
	return rss
}

// at returns the RSS of the last sample taken at or before t, or of the
// first sample if none was.
func (m *memSampler) at(t time.Time) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rss int64
	for _, s := range m.samples {
		if s.At.After(t) && rss != 0 {
			break
		}
		rss = s.RSS
	}
	return rss
}

func (m *memSampler) peakRSS() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// machineBusy is the CPU time every process on the machine has used so
// far: the first line of /proc/stat, all but idle and iowait.
func machineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var ticks int64
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %v", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}
