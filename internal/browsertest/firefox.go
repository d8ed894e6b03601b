package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bounds on what the driver does without a caller's context. Starting
// takes 3 to 8 s on an idle 2-CPU machine, but 25 s was seen under heavy
// load (session.new waits for Firefox's idle start-up tasks): the bound
// is for a Firefox that hangs, not for a slow one.
const (
	firefoxStartTimeout = 60 * time.Second // launch to a BiDi session
	firefoxTimeout      = 30 * time.Second // opening or closing a tab, closing the browser
)

// firefoxPrefs is the profile's user.js. Each pref quietens the browser
// (no first-run pages, telemetry, studies or pings to Mozilla) without
// changing what a page observes of CORS, cookies or security: the
// browser must answer as a user's would.
const firefoxPrefs = `
// Not Firefox's own set for automation, which the remote agent applies
// otherwise: besides quietening it sets prefs a page observes, such as
// security.fileuri.strict_origin_policy=false (file: pages all one
// origin), dom.disable_open_during_load=false (no popup blocker) and
// dom.permissions.testing.enabled. The quietening part we want is below.
user_pref("remote.prefs.recommended", false);

// No welcome, what's-new or default-browser pages or prompts: browser UI
// only; the tabs we open start blank.
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.page", 0);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "about:blank");
user_pref("startup.homepage_welcome_url.additional", "");

// No telemetry, and no data-submission notice (it opens a tab on
// mozilla.org). Reporting only: pages see nothing of it.
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);

// No studies or Normandy recipes: they may flip prefs remotely, mid-run,
// which an oracle must not have happen. They change nothing by being off.
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("app.normandy.enabled", false);

// No probes of detectportal.firefox.com: a captive-portal notice is UI,
// and the connectivity service only tunes how DNS (DNS over HTTPS, IPv6)
// reaches the internet, which names under .localhost and loopback
// addresses never do.
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);

// Never go offline on its own when the machine has no network link (as
// in a sandbox): only navigator.onLine would change, and loopback
// connections are allowed either way.
user_pref("network.manage-offline-status", false);
`

// firefox is Firefox ESR driven natively over WebDriver BiDi: one
// process with a fresh profile, one BiDi session, each tab a top-level
// browsing context.
type firefox struct {
	conn    *bidiConn
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	profile string
}

func startFirefox(t testing.TB) Browser {
	t.Helper()
	path := os.Getenv("CORSLAB_FIREFOX")
	if path == "" {
		path = "/usr/bin/firefox-esr"
	}
	if _, err := exec.LookPath(path); err != nil {
		missing(t, "browser tests need Firefox (apt-get install -y firefox-esr), or CORSLAB_FIREFOX set to its path: "+err.Error())
	}
	ff, err := launchFirefox(path)
	if err != nil {
		t.Fatalf("starting Firefox at %s: %v", path, err)
	}
	t.Cleanup(ff.close)
	return ff
}

// launchFirefox starts Firefox with a fresh profile and opens a BiDi
// session on it, within firefoxStartTimeout.
func launchFirefox(path string) (_ *firefox, err error) {
	// Not t.TempDir: Firefox may still be writing its profile while the
	// test's own clean-up runs, and a failed removal would fail the test.
	profile, err := os.MkdirTemp("", "corslab-firefox-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o600); err != nil {
		os.RemoveAll(profile)
		return nil, err
	}
	addrs := make(chan string, 1)
	out := &firefoxOutput{addr: addrs}
	// Port 0: Firefox picks a free port and prints it, so parallel test
	// binaries never collide. --no-remote: never hand the URL over to
	// another running Firefox.
	cmd := exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0")
	cmd.Stdout, cmd.Stderr = out, out
	// Content processes inherit the output pipe and may outlive the main
	// one for a moment; don't let Wait hang on them.
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, err
	}
	ff := &firefox{cmd: cmd, exited: make(chan struct{}), profile: profile}
	go func() {
		cmd.Wait()
		close(ff.exited)
	}()
	defer func() {
		if err != nil {
			ff.kill()
			err = fmt.Errorf("%w; Firefox's output ends:\n%s", err, out.tail())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), firefoxStartTimeout)
	defer cancel()
	var addr string
	select {
	case addr = <-addrs:
	case <-ff.exited:
		return nil, fmt.Errorf("Firefox exited before it listened for BiDi: %v", cmd.ProcessState)
	case <-ctx.Done():
		return nil, fmt.Errorf("Firefox did not listen for BiDi within %v", firefoxStartTimeout)
	}
	if ff.conn, err = dialBiDi(ctx, addr+"/session"); err != nil {
		return nil, err
	}
	// No capabilities: in particular not acceptInsecureCerts, so that a
	// bad certificate fails as it would for a user (and in Chromium).
	if err := ff.conn.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		return nil, err
	}
	// Every tab's console: the log of all contexts comes over the one
	// connection, and each tab takes its own.
	if err := ff.conn.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		return nil, err
	}
	return ff, nil
}

func (*firefox) Engine() string { return Firefox }

// close ends the browser: politely with browser.close, by force if it
// does not exit in time. The profile goes too.
func (ff *firefox) close() {
	ctx, cancel := context.WithTimeout(context.Background(), firefoxTimeout)
	defer cancel()
	// Firefox may drop the connection before it answers: the error says
	// nothing useful, the exit below does.
	ff.conn.call(ctx, "browser.close", nil, nil)
	select {
	case <-ff.exited:
	case <-ctx.Done():
	}
	ff.kill()
}

// kill kills Firefox unless it exited, and removes what it leaves.
func (ff *firefox) kill() {
	select {
	case <-ff.exited:
	default:
		ff.cmd.Process.Kill()
		<-ff.exited
	}
	if ff.conn != nil {
		ff.conn.Close()
	}
	os.RemoveAll(ff.profile) // best effort: a leftover temp dir harms nobody
}

func (ff *firefox) NewTab(t testing.TB) Tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), firefoxTimeout)
	defer cancel()
	var created struct {
		Context string `json:"context"`
	}
	// A window, not a tab: tabs of one window are hidden but for the
	// selected one, and a hidden page is not what a user looks at (its
	// timers are clamped to a second, document.visibilityState is
	// "hidden"). Each window shows its one tab.
	if err := ff.conn.call(ctx, "browsingContext.create", map[string]any{"type": "window"}, &created); err != nil {
		t.Fatalf("opening a Firefox tab: %v", err)
	}
	tab := &firefoxTab{conn: ff.conn, id: created.Context}
	tab.stop = ff.conn.on(tab.id, tab.event)
	t.Cleanup(func() { tab.Close() })
	return tab
}

type firefoxTab struct {
	conn *bidiConn
	id   string // its top-level browsing context
	stop func() // ends its events

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	console []string
}

// event records the log entries of the tab's own browsing context (not
// those of its frames, which are contexts of their own): console calls,
// and uncaught errors and unhandled rejections, which BiDi reports as
// "javascript" entries of level "error". A console entry is named by
// its method, as Chromium names it by its type, with "warning" for
// "warn", so that lines read the same in either engine.
func (tab *firefoxTab) event(ev bidiEvent) {
	if ev.Method != "log.entryAdded" {
		return
	}
	var e struct {
		Type   string  `json:"type"`   // "console" or "javascript"
		Level  string  `json:"level"`  // debug, info, warn or error
		Method string  `json:"method"` // of a console entry: log, warn, error…
		Text   *string `json:"text"`
	}
	if json.Unmarshal(ev.Params, &e) != nil {
		return
	}
	level := e.Level
	if e.Type == "console" && e.Method != "" {
		level = e.Method
	}
	if level == "warn" {
		level = "warning"
	}
	text := ""
	if e.Text != nil {
		text = *e.Text
	}
	tab.mu.Lock()
	tab.console = append(tab.console, level+": "+text)
	tab.mu.Unlock()
}

func (tab *firefoxTab) Navigate(ctx context.Context, url string) error {
	return tab.conn.call(ctx, "browsingContext.navigate", map[string]any{
		"context": tab.id,
		"url":     url,
		"wait":    "complete", // the load event fired
	}, nil)
}

// Eval evaluates in the tab's current document. Should that document go
// away while a promise is awaited (the page navigates), Firefox never
// answers, where Chromium fails at once: the call then ends with ctx.
func (tab *firefoxTab) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Type   string `json:"type"` // "success" or "exception"
		Result struct {
			Type  string  `json:"type"`
			Value *string `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := tab.conn.call(ctx, "script.evaluate", map[string]any{
		"expression":      jsonOf(expr),
		"target":          map[string]any{"context": tab.id},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &r)
	if err != nil {
		return fmt.Errorf("evaluating %.200s: %w", expr, err)
	}
	if r.Type == "exception" {
		return fmt.Errorf("evaluating %.200s: %s", expr, r.ExceptionDetails.Text)
	}
	// jsonOf makes every value a string, or null for undefined.
	if t := r.Result.Type; t != "string" && t != "null" {
		return fmt.Errorf("evaluating %.200s: a value of type %s, want a string from jsonOf", expr, t)
	}
	return decode(r.Result.Value, out)
}

func (tab *firefoxTab) Console() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.console...)
}

func (tab *firefoxTab) Close() error {
	tab.closeOnce.Do(func() {
		tab.stop()
		ctx, cancel := context.WithTimeout(context.Background(), firefoxTimeout)
		defer cancel()
		tab.closeErr = tab.conn.call(ctx, "browsingContext.close", map[string]any{"context": tab.id}, nil)
	})
	return tab.closeErr
}

// firefoxOutput is where Firefox's stdout and stderr go: it keeps their
// tail, for errors, and sends the BiDi address Firefox prints once
// listening ("WebDriver BiDi listening on ws://127.0.0.1:PORT") to addr.
type firefoxOutput struct {
	mu   sync.Mutex
	buf  []byte      // the tail of the output
	line []byte      // the line being written, until addr is sent
	addr chan string // buffered; nil once sent (guarded by mu)
}

const firefoxOutputTail = 4 << 10

func (o *firefoxOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	if len(o.buf) > 2*firefoxOutputTail {
		o.buf = append([]byte(nil), o.buf[len(o.buf)-firefoxOutputTail:]...)
	}
	if o.addr == nil {
		return len(p), nil
	}
	o.line = append(o.line, p...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			break
		}
		line := string(o.line[:i])
		o.line = o.line[i+1:]
		if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "WebDriver BiDi listening on "); ok {
			o.addr <- addr
			o.addr, o.line = nil, nil
			break
		}
	}
	return len(p), nil
}

// tail is the end of Firefox's output so far.
func (o *firefoxOutput) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf
	if len(b) > firefoxOutputTail {
		b = b[len(b)-firefoxOutputTail:]
	}
	return string(b)
}
