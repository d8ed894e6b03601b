//go:build linux

package browsertest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Debian's WebKitGTK: packages webkit2gtk-driver and libwebkit2gtk-4.1-0.
const (
	defaultWebKitDriver = "/usr/bin/WebKitWebDriver"
	defaultMiniBrowser  = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
)

// webkitStartTimeout bounds starting Xvfb, and a driver with its browser.
const webkitStartTimeout = 30 * time.Second

// webkit is WebKitGTK's MiniBrowser, driven over WebDriver classic by
// WebKitWebDriver, on an X display (an Xvfb of its own unless $DISPLAY
// works).
//
// Each tab is a WebKitWebDriver and MiniBrowser of its own. WebDriver
// classic runs a session's commands one at a time, in one current window:
// tabs as windows of one session would take turns, whatever lock switched
// windows between them, so an Eval awaiting a slow promise in one tab
// would hold up the other, and two tabs waiting on each other would never
// finish. The suites use tabs as parallel workers. And WebKitWebDriver
// serves a single session ("Maximum number of active sessions"), so
// sessions of their own need drivers of their own.
//
// The cost: such tabs share no cookies or caches, unlike what Browser
// says of tabs, since each MiniBrowser in automation mode keeps its data
// in an ephemeral store of its own. corslab's suites give every case its
// own corslab session, so none relies on sharing. Each tab also takes a
// second or more to start (MiniBrowser's start, mostly); the first starts
// with the browser.
//
// WebDriver BiDi would give the console: WebKitGTK 2.50 as Debian builds it
// has none (new session fails to match the capability webSocketUrl, true
// or false). See webkitTab.Console for what stands in.
type webkit struct {
	driver, miniBrowser string
	env                 []string // the driver's, and so the browser's

	mu    sync.Mutex
	spare *webkitTab // started with the browser, for the first NewTab
}

func startWebKit(t testing.TB) Browser {
	t.Helper()
	w := &webkit{
		driver:      cmp.Or(os.Getenv("CORSLAB_WEBKITDRIVER"), defaultWebKitDriver),
		miniBrowser: cmp.Or(os.Getenv("CORSLAB_MINIBROWSER"), defaultMiniBrowser),
		env:         os.Environ(),
	}
	const install = "browser tests need WebKitGTK (apt-get install -y webkit2gtk-driver xvfb), or CORSLAB_WEBKITDRIVER / CORSLAB_MINIBROWSER set: "
	for _, path := range []string{w.driver, w.miniBrowser} {
		if _, err := exec.LookPath(path); err != nil {
			missing(t, install+err.Error())
		}
	}
	if d := os.Getenv("DISPLAY"); d == "" || !usableDisplay(d) {
		if _, err := exec.LookPath(xvfbPath); err != nil {
			missing(t, install+err.Error())
		}
		// Later entries win: GTK on this X server, never on a Wayland
		// display the environment may name.
		w.env = append(w.env, "DISPLAY="+startXvfb(t), "GDK_BACKEND=x11")
	}
	// No accessibility bridge: it looks for a D-Bus session bus, which
	// test machines seldom have (GLib may even autolaunch one per browser).
	w.env = append(w.env, "NO_AT_BRIDGE=1")

	// Start the first tab's browser now, so that a broken install fails
	// here, clearly.
	tab, err := w.start()
	if err != nil {
		t.Fatal(err)
	}
	w.spare = tab
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.spare != nil {
			w.spare.Close()
			w.spare = nil
		}
	})
	return w
}

func (*webkit) Engine() string { return WebKit }

func (w *webkit) NewTab(t testing.TB) Tab {
	t.Helper()
	w.mu.Lock()
	tab := w.spare
	w.spare = nil
	w.mu.Unlock()
	if tab == nil {
		var err error
		if tab, err = w.start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { tab.Close() })
	return tab
}

// start starts a driver and, through a new session, its browser.
func (w *webkit) start() (*webkitTab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), webkitStartTimeout)
	defer cancel()
	var tab *webkitTab
	var err error
	// The port is free when picked, but taken again only when the driver
	// binds it: should something else take it in between, the driver
	// exits, and another port is tried.
	for range 3 {
		if tab, err = w.startDriver(ctx); !errors.Is(err, errDriverExited) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting WebKitWebDriver %s with MiniBrowser %s: %w", w.driver, w.miniBrowser, err)
	}
	caps := map[string]any{
		"webkitgtk:browserOptions": map[string]any{
			"binary": w.miniBrowser,
			"args":   []string{"--automation"},
		},
	}
	s, err := tab.client.newSession(ctx, caps)
	if err == nil {
		tab.session = s
		err = s.setWindowSize(ctx, 1366, 900)
	}
	if err != nil {
		tab.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("no session in %v (%w)", webkitStartTimeout, err)
		}
		return nil, fmt.Errorf("starting MiniBrowser %s through WebKitWebDriver: %w; their output ends:\n%s", w.miniBrowser, err, tab.out)
	}
	return tab, nil
}

var errDriverExited = errors.New("the driver exited")

// startDriver starts WebKitWebDriver on a free loopback port and waits
// until it is ready for a session.
func (w *webkit) startDriver(ctx context.Context) (*webkitTab, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	tab := &webkitTab{out: new(tailBuffer), exited: make(chan struct{})}
	tab.cmd = exec.Command(w.driver, "--port="+port, "--host=127.0.0.1")
	tab.cmd.Env = w.env
	// The browser inherits these: the output of all of them, for errors.
	tab.cmd.Stdout, tab.cmd.Stderr = tab.out, tab.out
	// A process group, so that Close ends the browser and its WebKit
	// processes with the driver (which, killed, would leave them running).
	tab.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	tab.cmd.WaitDelay = time.Second
	if err := tab.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		tab.cmd.Wait()
		close(tab.exited)
	}()
	tab.client = newWDClient("http://127.0.0.1:" + port)

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if tab.client.ready(ctx) {
			return tab, nil
		}
		select {
		case <-tab.exited:
			tab.Close()
			return nil, fmt.Errorf("%w (%v); its output ends:\n%s", errDriverExited, tab.cmd.ProcessState, tab.out)
		case <-ctx.Done():
			tab.Close()
			return nil, fmt.Errorf("not ready in %v; its output ends:\n%s", webkitStartTimeout, tab.out)
		case <-tick.C:
		}
	}
}

// A webkitTab is one MiniBrowser window, the only one of its driver's
// one session.
type webkitTab struct {
	cmd    *exec.Cmd     // the driver, leading the process group of all
	exited chan struct{} // closed once cmd exited
	out    *tailBuffer   // the end of their output
	client *wdClient
	// session is nil until the browser started.
	session *wdSession

	// timeoutsFor is the deadline that the session's timeouts were last
	// set to end at (zero: none), if timeoutsSet.
	timeoutsFor time.Time
	timeoutsSet bool

	navigated bool     // whether a page may have a console recorder
	console   []string // lines read from the pages so far

	closeOnce sync.Once
}

func (tab *webkitTab) Navigate(ctx context.Context, url string) error {
	if err := tab.setTimeouts(ctx); err != nil {
		return err
	}
	if tab.navigated {
		// Keep what the page being left logged since last read.
		if err := tab.readConsole(ctx); err != nil && ctx.Err() != nil {
			return tab.ctxErr(ctx, err)
		}
	}
	if err := tab.session.navigate(ctx, url); err != nil {
		return fmt.Errorf("navigating to %s: %w", url, tab.ctxErr(ctx, err))
	}
	tab.navigated = true

	// Start recording the console at once, and look at where the window
	// ended: WebKitGTK answers a failed load (such as a refused
	// connection) with an error page at about:blank, while the driver
	// reports success.
	var page struct{ URL, Text string }
	script := consoleRecorderJS + `
arguments[arguments.length - 1]({url: location.href, text: document.body ? document.body.innerText : ""});`
	if err := tab.session.executeAsync(ctx, script, nil, &page); err != nil {
		return fmt.Errorf("navigating to %s: %w", url, tab.ctxErr(ctx, err))
	}
	if page.URL == "about:blank" && url != "about:blank" {
		return fmt.Errorf("navigating to %s: the load failed; WebKit's error page says %.200q", url, page.Text)
	}
	return nil
}

func (tab *webkitTab) Eval(ctx context.Context, expr string, out any) error {
	if err := tab.setTimeouts(ctx); err != nil {
		return err
	}
	// The recorder goes in too, in case the page went elsewhere by itself.
	if err := tab.session.eval(ctx, consoleRecorderJS, expr, out); err != nil {
		return fmt.Errorf("evaluating %.200s: %w", expr, tab.ctxErr(ctx, err))
	}
	return nil
}

// Console returns what the tab's pages logged, as read from a recorder
// that Navigate and Eval install in the page: console.log, .info, .warn
// (as "warning"), .error, .debug, .trace, .dir and .table wrapped, and the
// window's error and unhandledrejection events. That is WebKit's console
// only from the moment the recorder went in, once the page loaded:
// whatever a page logs while it loads (its scripts, and timers that fire
// before the load event) is lost, as are messages of the browser's own,
// such as CORS failures, which Chromium's Console leaves out too. Only
// the top document is recorded, not its frames; lines of a page that went
// elsewhere by itself before they were read are lost too.
//
// (With WebDriver BiDi it could be otherwise; WebKitGTK has no BiDi here.
// Its other outlet, the setting enable-write-console-messages-to-stdout,
// prints nothing in an ephemeral session, which automation always is.)
func (tab *webkitTab) Console() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if tab.navigated && tab.setTimeouts(ctx) == nil {
		tab.readConsole(ctx) // best effort: there is no error to return
	}
	return slices.Clone(tab.console)
}

// readConsole moves what the page's recorder holds to tab.console.
func (tab *webkitTab) readConsole(ctx context.Context) error {
	var lines []string
	script := consoleRecorderJS + `
arguments[arguments.length - 1](window[Symbol.for("corslab.console")].splice(0));`
	if err := tab.session.executeAsync(ctx, script, nil, &lines); err != nil {
		return err
	}
	tab.console = append(tab.console, lines...)
	return nil
}

// consoleRecorderJS installs the console recorder in the page, once: an
// array of lines, "level: text", under a symbol (not enumerable, so that
// the page sees no new global name).
const consoleRecorderJS = `(() => {
	const key = Symbol.for("corslab.console");
	if (Object.hasOwn(window, key)) return;
	const lines = [];
	Object.defineProperty(window, key, {value: lines});
	const describe = ` + describeJS + `;
	const text = (v) => {
		if (typeof v === "string") return v;
		try { const j = JSON.stringify(v); if (j !== undefined) return j; } catch {}
		return String(v);
	};
	const levels = {log: "log", info: "info", warn: "warning", error: "error", debug: "debug", trace: "trace", dir: "dir", table: "table"};
	for (const [method, level] of Object.entries(levels)) {
		const original = console[method];
		if (typeof original !== "function") continue;
		console[method] = function (...args) {
			lines.push(level + ": " + args.map(text).join(" "));
			return original.apply(this, args);
		};
	}
	addEventListener("error", (e) => lines.push("error: " + (e.error != null ? describe(e.error) : e.message)));
	addEventListener("unhandledrejection", (e) => lines.push("error: Unhandled Promise Rejection: " + describe(e.reason)));
})();`

// setTimeouts makes the session's script and page load timeouts end with
// ctx. WebDriver classic cannot abort a running script or load, and runs
// a session's commands one at a time: without this, a call that ctx cut
// short would hold up the tab's next calls until the driver's own
// timeout. Without a deadline, the limit is a day.
func (tab *webkitTab) setTimeouts(ctx context.Context) error {
	deadline, _ := ctx.Deadline()
	if tab.timeoutsSet && deadline.Equal(tab.timeoutsFor) {
		return nil
	}
	limit := 24 * time.Hour
	if !deadline.IsZero() {
		limit = time.Until(deadline)
		if limit <= 0 {
			return context.DeadlineExceeded
		}
		limit += time.Millisecond - 1 // whole milliseconds, rounded up
	}
	if err := tab.session.setTimeouts(ctx, limit, limit); err != nil {
		return fmt.Errorf("setting WebKit's timeouts: %w", tab.ctxErr(ctx, err))
	}
	tab.timeoutsFor, tab.timeoutsSet = deadline, true
	return nil
}

// ctxErr is err, said to be ctx's doing when ctx ended (the driver's
// script timeout may answer just before ctx's deadline), or with the
// driver's output when the driver exited.
func (tab *webkitTab) ctxErr(ctx context.Context, err error) error {
	select {
	case <-tab.exited:
		return fmt.Errorf("%w (WebKitWebDriver exited, %v; the output ends:\n%s)", err, tab.cmd.ProcessState, tab.out)
	default:
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// Close stops the driver and the browser, with all their processes.
func (tab *webkitTab) Close() error {
	tab.closeOnce.Do(func() {
		// Killed rather than asked to quit (deleting the session), which
		// takes a while: an ephemeral browser has nothing to save.
		syscall.Kill(-tab.cmd.Process.Pid, syscall.SIGKILL)
		<-tab.exited
		tab.client.close()
	})
	return nil
}

// A tailBuffer keeps the last few kilobytes written to it: a process's
// output, for error messages.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = slices.Clone(t.b[len(t.b)-tailSize:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
