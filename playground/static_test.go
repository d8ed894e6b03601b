package playground

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corslab/corslab/static"
)

// rawGet sends a GET without the Go client's own gzip handling, so that
// the test sees the bytes the server sent.
func rawGet(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func staticNames(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(static.FS, "*.*")
	if err != nil || len(names) == 0 {
		t.Fatalf("static files: %v %v", names, err)
	}
	return names
}

// Every file is served at its versioned URL, on the UI and on a virtual
// origin, cached for good, with its type; gzipped when asked, and the same
// bytes once gunzipped.
func TestStaticVersionedURLs(t *testing.T) {
	srv := startServer(t, 1)
	for _, name := range staticNames(t) {
		want, _ := fs.ReadFile(static.FS, name)
		ct := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[name[strings.LastIndex(name, "."):]]
		for _, base := range []string{srv.testURL(UI) + "/static", srv.testURL(App) + "/_corslab/static"} {
			u := base + "/v/" + static.Version + "/" + name
			resp, body := rawGet(t, u)
			h := resp.Header
			if resp.StatusCode != http.StatusOK || h.Get("Cache-Control") != immutable || h.Get("Content-Type") != ct ||
				h.Get("Content-Encoding") != "" || !bytes.Equal(body, want) || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: %d, Cache-Control %q, Content-Type %q, Content-Encoding %q, %d bytes (want %d)",
					u, resp.StatusCode, h.Get("Cache-Control"), h.Get("Content-Type"), h.Get("Content-Encoding"), len(body), len(want))
			}
			if aco := h.Get("Access-Control-Allow-Origin"); (aco == "*") != strings.Contains(base, "_corslab") {
				t.Errorf("GET %s: Access-Control-Allow-Origin %q", u, aco)
			}
			if h.Get("Vary") != "Accept-Encoding" {
				t.Errorf("GET %s: Vary %q", u, h.Get("Vary"))
			}

			resp, body = rawGet(t, u, "Accept-Encoding", "br, gzip, deflate")
			if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Cache-Control") != immutable {
				t.Errorf("GET %s with gzip: Content-Encoding %q", u, resp.Header.Get("Content-Encoding"))
				continue
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, want) {
				t.Errorf("GET %s with gzip: gunzipped %d bytes, %v; want the file's %d", u, len(plain), err, len(want))
			}
			if len(body) >= len(want) || resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == h.Get("ETag") {
				t.Errorf("GET %s with gzip: %d bytes for %d, ETag %q (plain %q)", u, len(body), len(want), resp.Header.Get("ETag"), h.Get("ETag"))
			}
		}
	}
}

// The plain URL is revalidated every time: a strong ETag per encoding, and
// a 304 without a body when it matches.
func TestStaticETagRevalidates(t *testing.T) {
	srv := startServer(t, 1)
	for _, enc := range []string{"", "gzip"} {
		u := srv.testURL(UI) + "/static/lab.css"
		resp, _ := rawGet(t, u, "Accept-Encoding", enc)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-cache" || !regexp.MustCompile(`^"[0-9a-f]{10}(-gzip)?"$`).MatchString(etag) {
			t.Fatalf("GET %s (%q): %d, Cache-Control %q, ETag %q", u, enc, resp.StatusCode, resp.Header.Get("Cache-Control"), etag)
		}
		resp, body := rawGet(t, u, "Accept-Encoding", enc, "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("GET %s (%q) If-None-Match %s: %d, %d bytes, ETag %q; want 304", u, enc, etag, resp.StatusCode, len(body), resp.Header.Get("ETag"))
		}
		resp, _ = rawGet(t, u, "Accept-Encoding", enc, "If-None-Match", `"0000000000"`)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with another ETag: %d, want 200", u, resp.StatusCode)
		}
	}
}

// A version this build does not have is a 404: its bytes are gone, and an
// immutable URL must never be given others. So is a file that is not
// there.
func TestStaticUnknownVersionIsNotFound(t *testing.T) {
	srv := startServer(t, 1)
	for _, path := range []string{
		"/static/v/0000000000/lab.js", "/static/v/" + static.Version + "/nope.js", "/static/nope.js",
		"/static/v/" + static.Version, "/static/v/lab.js",
	} {
		if resp, _ := rawGet(t, srv.testURL(UI)+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := rawGet(t, srv.testURL(Evil)+"/_corslab/static/v/0000000000/runner.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("evil's old version: %d, want 404", resp.StatusCode)
	}
}

func TestStaticAcceptsGzip(t *testing.T) {
	for _, c := range []struct {
		header string
		want   bool
	}{
		{"", false}, {"gzip", true}, {"br, gzip, deflate, zstd", true}, {"GZIP;q=0.5", true},
		{"gzip;q=0", false}, {"gzip; q=0.0", false}, {"*", true}, {"*;q=0", false}, {"identity", false},
		{"x-gzip", true}, {"deflate, br", false},
	} {
		if got := acceptsGzip(c.header); got != c.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", c.header, got, c.want)
		}
	}
}

var staticRef = regexp.MustCompile(`(?:src|href)="([^"]*/static/[^"]*)"`)

// Every page names its static files by their versioned URLs only, and
// each of them is there.
func TestStaticPagesReferenceVersionedURLs(t *testing.T) {
	c := newLessonClient(t, 20)
	_, labLoc, _ := c.get("/lab")
	_, matrixLoc, _ := c.get("/matrix")
	_, lessonLoc := c.newLessonSession("handlers-one", "")
	pages := map[string]string{}
	for _, path := range []string{labLoc, matrixLoc, lessonLoc, "/lessons", "/lessons/no-such-lesson"} {
		_, _, body := c.get(path)
		pages[c.srv.testURL(UI)+path] = body
	}
	for _, u := range []string{c.srv.testURL(App) + "/_corslab/runner?ui=" + c.origin(UI), c.srv.testURL(App) + "/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Host = strings.TrimPrefix(c.origin(App), "http://")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pages[u] = string(b)
	}
	teach := startServerWith(t, Config{Listen: "127.0.0.1", MaxSessions: 2, SessionIdle: c.srv.cfg.SessionIdle, Logger: c.srv.log, TeachToken: "static-test-token"})
	_, body := rawGet(t, teach.testURL(UI)+"/teach", "Authorization", "Bearer static-test-token")
	pages[teach.testURL(UI)+"/teach"] = string(body)

	for u, body := range pages {
		refs := staticRef.FindAllStringSubmatch(body, -1)
		if len(refs) == 0 {
			t.Errorf("%s names no static file:\n%.300s", u, body)
		}
		for _, m := range refs {
			ref := m[1]
			if !strings.Contains(ref, "/static/v/"+static.Version+"/") {
				t.Errorf("%s names %s, not a versioned URL", u, ref)
			}
		}
	}
	runner := pages[c.srv.testURL(App)+"/_corslab/runner?ui="+c.origin(UI)]
	if !strings.Contains(runner, "/runner.css\"") || strings.Contains(runner, "lab.css") {
		t.Errorf("the runner page should load runner.css alone:\n%s", runner)
	}
}

// HTML pages are gzipped for a browser that asks; a Go client that does
// not gets them as they are.
func TestStaticPagesGzipped(t *testing.T) {
	srv := startServer(t, 2)
	resp, body := rawGet(t, srv.testURL(UI)+"/lessons", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("GET /lessons: %d, Content-Encoding %q, Vary %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(zr)
	_, plain := rawGet(t, srv.testURL(UI)+"/lessons")
	if !bytes.Equal(html, plain) || !bytes.Contains(plain, []byte("<!doctype html>")) && !bytes.Contains(plain, []byte("<!DOCTYPE html>")) {
		t.Errorf("gunzipped page differs from the plain one: %d vs %d bytes", len(html), len(plain))
	}
	resp, _ = rawGet(t, srv.testURL(UI)+"/api/lessons", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("JSON was encoded: %q", resp.Header.Get("Content-Encoding"))
	}
}

// However many pages are asked for at once, at most a few are compressed
// at a time (each compressor holds large tables); the others go plain,
// whole and correct.
func TestGzipPagesIsBounded(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	page := gzipPages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		io.WriteString(w, strings.Repeat("<p>corslab</p>", 100))
	}))
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		page.ServeHTTP(rec, req)
		return rec
	}
	var wg sync.WaitGroup
	const busy = 20
	encodings := make(chan string, busy)
	for range busy {
		wg.Go(func() { encodings <- get("/slow").Header().Get("Content-Encoding") })
	}
	// The ones beyond the bound answer at once, plain; wait for the rest.
	for range busy {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the pages did not start")
		}
	}
	if rec := get("/now"); rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != strings.Repeat("<p>corslab</p>", 100) {
		t.Errorf("a page beyond the bound: %q encoding, %d bytes, want it plain and whole", rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
	close(release)
	wg.Wait()
	close(encodings)
	gzipped := 0
	for e := range encodings {
		if e == "gzip" {
			gzipped++
		}
	}
	if gzipped == 0 || gzipped > 8 {
		t.Errorf("%d of %d pages asked for at once were gzipped, want 1 to 8", gzipped, busy)
	}
	// Once they are done, a page is compressed again, by a reused writer.
	rec := get("/now")
	zr, err := gzip.NewReader(rec.Body)
	if err != nil || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("after the burst: %q, %v", rec.Header().Get("Content-Encoding"), err)
	}
	if body, _ := io.ReadAll(zr); string(body) != strings.Repeat("<p>corslab</p>", 100) {
		t.Errorf("after the burst the page reads %q", body)
	}
}
