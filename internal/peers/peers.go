// Package peers starts the real CORS servers that corslab's tests hold its
// model and its snippets to: Debian's nginx and Node's Express with the npm
// cors package, each with a configuration the test writes, on a free
// loopback port, stopped when the test ends. Nobody here wrote them: that
// is the point.
//
// Without the software a test skips, with a message naming the Debian
// package to install, unless CORSLAB_REQUIRE_BROWSER=1 (as in CI), which
// makes the skip a failure, as internal/browsertest does for browsers.
package peers

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Missing skips t, or fails it when CORSLAB_REQUIRE_BROWSER=1, saying
// what to install.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CORSLAB_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// nginxPath is Debian's nginx binary, or why there is none.
func nginxPath() (string, string) {
	bin, err := exec.LookPath("nginx")
	if err == nil {
		return bin, ""
	}
	if _, statErr := os.Stat("/usr/sbin/nginx"); statErr == nil {
		return "/usr/sbin/nginx", ""
	}
	return "", "nginx is not installed (Debian package nginx: apt-get install -y nginx): " + err.Error()
}

// NginxMissing says why Nginx cannot run here, naming the package to
// install; "" when it can.
func NginxMissing() string {
	_, why := nginxPath()
	return why
}

// Nginx runs nginx in the foreground with a minimal nginx.conf: httpConf
// in its http block (map blocks and the like), serverConf in the server
// block (location blocks), which listens on a free loopback port. It
// returns the server's base URL, http://127.0.0.1:port, and stops nginx
// when t ends. Without nginx, t is skipped (Missing).
func Nginx(t testing.TB, httpConf, serverConf string) string {
	t.Helper()
	bin, why := nginxPath()
	if why != "" {
		Missing(t, why)
	}
	dir := t.TempDir()
	port := FreePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
    server {
        listen 127.0.0.1:%[3]d;
%[4]s
    }
}
`, dir, indentBy(httpConf, "    "), port, indentBy(serverConf, "        "))
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr")
	cmd.Stdout, cmd.Stderr = &out, &out
	run(t, cmd, fmt.Sprintf("127.0.0.1:%d", port), func() string { return out.String() + "\n" + conf })
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// NodeModules is the directory of the test-only npm packages, as
// .ci/package-lock.json pins them (npm ci --prefix .ci).
func NodeModules() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", ".ci", "node_modules")
}

// ExpressMissing says why Express cannot run here, naming what to
// install; "" when it can.
func ExpressMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "Node.js is not installed (Debian packages nodejs and npm: apt-get install -y nodejs npm): " + err.Error()
	}
	for _, pkg := range []string{"express", "cors"} {
		if _, err := os.Stat(filepath.Join(NodeModules(), pkg, "package.json")); err != nil {
			return "the npm package " + pkg + " is not in .ci/node_modules (npm ci --prefix .ci, with Debian's package npm): " + err.Error()
		}
	}
	return ""
}

// Express runs node with script, which must define app, an Express
// application with its middlewares and routes (require('express') and
// require('cors') find the packages of .ci/node_modules); Express adds
// app.listen on a free loopback port. It returns the server's base URL,
// http://127.0.0.1:port, and stops node when t ends. Without Node or the
// packages, t is skipped (Missing).
func Express(t testing.TB, script string) string {
	t.Helper()
	if why := ExpressMissing(); why != "" {
		Missing(t, why)
	}
	node, _ := exec.LookPath("node")
	port := FreePort(t)
	script += fmt.Sprintf("app.listen(%d, '127.0.0.1');\n", port)
	path := filepath.Join(t.TempDir(), "server.js")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(node, path)
	cmd.Env = append(os.Environ(), "NODE_PATH="+NodeModules())
	cmd.Stdout, cmd.Stderr = &out, &out
	run(t, cmd, fmt.Sprintf("127.0.0.1:%d", port), func() string { return out.String() + "\n" + script })
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// FreePort is a loopback port nobody listens on, for a server that takes
// its port from its configuration.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// run starts cmd, waits for it to listen on addr, and stops it when the
// test ends. output is what to show when it does not come up.
func run(t testing.TB, cmd *exec.Cmd, addr string, output func() string) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening:\n%s", filepath.Base(cmd.Path), output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("nothing listens on %s after 10s:\n%s", addr, output())
}

// syncBuffer is a server's output, written by exec's copying goroutine
// while the test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// indentBy indents each non-empty line of s.
func indentBy(s, by string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if sc.Text() != "" {
			b.WriteString(by + sc.Text())
		}
		b.WriteString("\n")
	}
	return b.String()
}
