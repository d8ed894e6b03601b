package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/static"
)

// The static files (static/), as the browser gets them.
//
// Each file has two URLs under its origin's prefix (/static/ on the UI,
// /_corslab/static/ on the virtual origins):
//
//	v/{version}/{name}  what the pages name (views.staticURL). version is
//	                    static.Version, one hash of the whole set, so a
//	                    module's relative import ("./dom.js") lands under
//	                    the same prefix: every file of a page is versioned
//	                    without a build step or an import map. These bytes
//	                    never change, so they are cached for a year,
//	                    immutable: a second visit asks for none of them.
//	{name}              the plain URL, for anyone who types it (and older
//	                    pages): no-cache, revalidated with its ETag, a 304
//	                    when nothing changed.
//
// An unknown version is a 404, not the current file: a URL cached as
// immutable must never be given other bytes, and after an upgrade the
// page that named the old version is reloaded anyway (its HTML is never
// cached), so it names the new one.
//
// Text files are sent gzipped to a browser that accepts it (they shrink to
// about a quarter), compressed once at start-up. Each representation has
// its own strong ETag, and every answer says Vary: Accept-Encoding.

// staticTypes are the types of the files static/ may hold, whether gzip
// helps them, and whether a browser that opens one in a tab or a frame
// makes a document of it that runs script (HTML, SVG): such a file gets a
// page's security headers (uiSecurity). A file of another type fails the
// start-up.
var staticTypes = map[string]struct {
	contentType string
	compress    bool
	document    bool
}{
	".js":    {"text/javascript; charset=utf-8", true, false},
	".css":   {"text/css; charset=utf-8", true, false},
	".svg":   {"image/svg+xml", true, true},
	".json":  {"application/json", true, false},
	".html":  {"text/html; charset=utf-8", true, true},
	".png":   {"image/png", false, false},
	".woff2": {"font/woff2", false, false},
}

// staticSubresource reports whether a UI path names a static file that is
// only ever a part of a page (a script, a stylesheet, an image, a font),
// under either of its URLs. Opened on its own, such a file is shown as
// text or as an image, and runs nothing.
func staticSubresource(urlPath string) bool {
	if !strings.HasPrefix(urlPath, "/static/") {
		return false
	}
	typ, ok := staticTypes[path.Ext(urlPath)]
	return ok && !typ.document
}

const immutable = "public, max-age=31536000, immutable"

type staticFile struct {
	contentType string
	body, gz    []byte // gz is nil when gzip would not make it smaller
	etag, gzTag string
}

type staticSet struct {
	version string
	files   map[string]*staticFile
}

// embeddedStatic is static.FS, hashed and compressed once per process.
var embeddedStatic = sync.OnceValue(func() *staticSet {
	set, err := loadStatic(static.FS, static.Version)
	if err != nil {
		panic(err) // the files are embedded at build time: a test catches it
	}
	return set
})

// loadStatic reads every file of fsys and prepares its answers.
func loadStatic(fsys fs.FS, version string) (*staticSet, error) {
	set := &staticSet{version: version, files: map[string]*staticFile{}}
	// One compressor for every file: each new one takes some 800 KB of
	// scratch memory, which was most of corslab's start-up.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		typ, ok := staticTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("static/%s: no Content-Type known for %q files", name, path.Ext(name))
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("static/%s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:10]
		f := &staticFile{contentType: typ.contentType, body: body, etag: `"` + hash + `"`}
		if typ.compress {
			buf.Reset()
			zw.Reset(&buf)
			zw.Write(body)
			if err := zw.Close(); err != nil {
				return fmt.Errorf("static/%s: gzip: %w", name, err)
			}
			if buf.Len() < len(body) {
				f.gz, f.gzTag = bytes.Clone(buf.Bytes()), `"`+hash+`-gzip"`
			}
		}
		set.files[name] = f
		return nil
	})
	return set, err
}

// serve answers a GET or HEAD for rest, the URL path after the prefix.
func (set *staticSet) serve(w http.ResponseWriter, r *http.Request, rest string) {
	cache := "no-cache"
	if v, name, ok := strings.Cut(rest, "/"); ok && v == "v" {
		version, file, _ := strings.Cut(name, "/")
		if version != set.version {
			http.NotFound(w, r)
			return
		}
		rest, cache = file, immutable
	}
	f := set.files[rest]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", cache)
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(strings.Join(r.Header.Values("Accept-Encoding"), ",")) {
			body, etag = f.gz, f.gzTag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match with a 304, and HEAD and Range.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip: named
// (or as x-gzip), or through "*", with a q-value above 0 (RFC 9110
// section 12.5.3).
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// gzipPages sends the UI origin's HTML pages gzipped to a browser that
// accepts it: the lab's page is some 30 KB of HTML, 6 KB gzipped. Only
// text/html answers change; JSON, the websocket (an Upgrade request goes
// straight through) and the static files (compressed once, above) do not.
//
// A gzip writer holds some 800 KB of tables, so they are reused, and at
// most maxPageCompressors compress at once, whatever a flood of page
// requests does: an answer beyond that goes uncompressed.
func gzipPages(next http.Handler) http.Handler {
	const maxPageCompressors = 8
	slots := make(chan struct{}, maxPageCompressors)
	var writers sync.Pool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("Upgrade") != "" ||
			!acceptsGzip(strings.Join(r.Header.Values("Accept-Encoding"), ",")) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipPageWriter{ResponseWriter: w, writers: &writers}
		defer gw.close()
		next.ServeHTTP(gw, r)
	})
}

// gzipPageWriter decides when the status is written: an HTML answer with
// a body, not already encoded, is compressed.
type gzipPageWriter struct {
	http.ResponseWriter
	writers     *sync.Pool // of *gzip.Writer
	zw          *gzip.Writer
	wroteHeader bool
}

func (g *gzipPageWriter) WriteHeader(code int) {
	if g.wroteHeader || code < 200 {
		g.ResponseWriter.WriteHeader(code)
		return
	}
	g.wroteHeader = true
	h := g.Header()
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") && h.Get("Content-Encoding") == "" &&
		code != http.StatusNoContent && code != http.StatusNotModified {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		if zw, ok := g.writers.Get().(*gzip.Writer); ok {
			zw.Reset(g.ResponseWriter)
			g.zw = zw
		} else {
			g.zw = gzip.NewWriter(g.ResponseWriter)
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipPageWriter) Write(b []byte) (int, error) {
	if !g.wroteHeader {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.zw != nil {
		return g.zw.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

func (g *gzipPageWriter) Flush() {
	if g.zw != nil {
		g.zw.Flush()
	}
	http.NewResponseController(g.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (g *gzipPageWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *gzipPageWriter) close() {
	if g.zw != nil {
		g.zw.Close()
		g.zw.Reset(nil)
		g.writers.Put(g.zw)
	}
}
