package browsertest

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDriver holds every engine's driver to the Tab contract: navigation
// waits for the load event, values come back as JSON, promises are
// awaited, a throw is an error, the console is read, and two tabs work at
// once without seeing each other's pages.
func TestDriver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>%s</title>
<script>
window.addEventListener("load", () => { window.loaded = true; });
// The test calls logLater once Navigate returned: WebKit's Console
// starts there (webkit.go), so what a page logs after it loaded, from
// its own task, is what every engine is held to.
function logLater() {
	setTimeout(() => {
		console.log("hello from", location.pathname);
		throw new Error("uncaught on " + location.pathname);
	}, 0);
}
</script>`, r.URL.Path)
	}))
	t.Cleanup(srv.Close)

	Each(t, func(t *testing.T, b Browser) {
		if b.Engine() != t.Name()[strings.LastIndex(t.Name(), "/")+1:] {
			t.Errorf("Engine() = %q in subtest %s", b.Engine(), t.Name())
		}
		var wg sync.WaitGroup
		for _, page := range []string{"/one", "/two"} {
			tab := b.NewTab(t)
			wg.Go(func() { checkTab(t, tab, srv.URL+page) })
		}
		wg.Wait()
	})
}

func checkTab(t *testing.T, tab Tab, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tab.Navigate(ctx, url); err != nil {
		t.Errorf("Navigate(%s): %v", url, err)
		return
	}
	var loaded bool
	if err := tab.Eval(ctx, "window.loaded === true", &loaded); err != nil || !loaded {
		t.Errorf("after Navigate, loaded = %v, %v: want the load event fired", loaded, err)
	}
	var title string
	if err := tab.Eval(ctx, "document.title", &title); err != nil || !strings.HasSuffix(url, title) {
		t.Errorf("document.title = %q, %v: want the tab's own page of %s", title, err, url)
	}
	var obj struct {
		N    int
		List []string
	}
	if err := tab.Eval(ctx, `({n: 6 * 7, list: ["a", "b"]})`, &obj); err != nil || obj.N != 42 || !slices.Equal(obj.List, []string{"a", "b"}) {
		t.Errorf("an object: %+v, %v", obj, err)
	}
	var n int
	if err := tab.Eval(ctx, "new Promise((resolve) => setTimeout(() => resolve(7), 50))", &n); err != nil || n != 7 {
		t.Errorf("a promise: %d, %v; want 7", n, err)
	}
	var none any = "unset"
	if err := tab.Eval(ctx, "undefined", &none); err != nil || none != nil {
		t.Errorf("undefined: %v, %v; want nil", none, err)
	}
	if err := tab.Eval(ctx, "null", nil); err != nil {
		t.Errorf("a nil out: %v", err)
	}
	if err := tab.Eval(ctx, `(() => { throw new Error("boom"); })()`, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a throw gave %v, want an error saying boom", err)
	}
	if err := tab.Eval(ctx, `Promise.reject(new Error("rejected"))`, nil); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("a rejection gave %v, want an error saying rejected", err)
	}
	if err := tab.Eval(ctx, "logLater()", nil); err != nil {
		t.Error(err)
	}
	if err := tab.Eval(ctx, `(console.error("logged", "twice"), true)`, nil); err != nil {
		t.Error(err)
	}
	path := url[strings.LastIndex(url, "/"):]
	want := []string{"hello from " + path, "uncaught on " + path, "logged twice"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := strings.Join(tab.Console(), "\n")
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(got, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("console of %s lacks %q; it has:\n%s", url, missing, got)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := tab.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestLocalhostNames holds every engine to resolving names under
// .localhost to loopback by itself, with no /etc/hosts entry: the suites
// give origins such names (app-corslab.localhost). The server listens on
// 127.0.0.1 only, and sees the name in the Host header.
func TestLocalhostNames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%s</title>", html.EscapeString(r.Host))
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	Each(t, func(t *testing.T, b Browser) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tab := b.NewTab(t)
		host := fmt.Sprintf("app-corslab.localhost:%d", port)
		if err := tab.Navigate(ctx, "http://"+host+"/"); err != nil {
			t.Fatalf("Navigate(http://%s/): %v", host, err)
		}
		var page struct{ Title, Origin string }
		if err := tab.Eval(ctx, "({title: document.title, origin: location.origin})", &page); err != nil {
			t.Fatal(err)
		}
		if page.Title != host || page.Origin != "http://"+host {
			t.Errorf("the page says Host %q at origin %q; want %s at http://%[3]s", page.Title, page.Origin, host)
		}
	})
}
