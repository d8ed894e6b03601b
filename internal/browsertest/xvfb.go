//go:build linux

package browsertest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// xvfbPath is Debian's Xvfb (package xvfb).
const xvfbPath = "/usr/bin/Xvfb"

// usableDisplay reports whether an X server accepts connections on the
// display d ($DISPLAY: ":N", ":N.S" or "host:N").
func usableDisplay(d string) bool {
	i := strings.LastIndex(d, ":")
	if i < 0 {
		return false
	}
	host := d[:i]
	num, _, _ := strings.Cut(d[i+1:], ".") // the screen does not matter
	n, err := strconv.Atoi(num)
	if err != nil {
		return false
	}
	var c net.Conn
	if host == "" || host == "unix" {
		c, err = net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n), time.Second)
	} else {
		c, err = net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)), time.Second)
	}
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// startXvfb starts a virtual X server for t, stopped when t ends, and
// returns its display (":N"). Xvfb picks a free display number itself
// (-displayfd), so that tests and other servers running at once never
// race for one.
func startXvfb(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := new(tailBuffer)
	cmd := exec.Command(xvfbPath, "-displayfd", "3", "-screen", "0", "1366x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Stdout, cmd.Stderr = out, out
	// Should the test binary die without its clean-ups (a panic, go
	// test's -timeout), the server goes too; so do the MiniBrowsers on it,
	// losing their display.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	w.Close() // Xvfb has its copy; reading r ends when Xvfb exits
	if err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}

	// Xvfb writes the display number once it accepts connections.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	var num string
	select {
	case num = <-line:
	case <-time.After(webkitStartTimeout):
	}
	if _, err := strconv.Atoi(num); err != nil {
		stop()
		t.Fatalf("Xvfb gave no display number in %v; its output ends:\n%s", webkitStartTimeout, out)
	}
	t.Cleanup(stop)
	return ":" + num
}
