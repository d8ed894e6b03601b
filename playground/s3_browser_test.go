package playground

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/origins"
)

// The S3 lab in Chromium: uploading through a presigned PUT, the one-origin
// set-up that needs no CORS, and a signed URL that expires. The matrix of
// redirects and bucket rules has its own test (matrix_browser_test.go).
func TestS3InBrowser(t *testing.T) {
	browser := browsertest.CDP(t)
	srv := startServer(t, 50)

	t.Run("a presigned PUT from the app origin uploads straight to the bucket", func(t *testing.T) {
		tab := newTab(t, browser)
		// 1. Ask the api for an upload URL, as article 002's frontend does.
		q := url.Values{
			"request.method":  {"POST"},
			"request.path":    {"/uploads/from-the-browser.txt"},
			"api.allowOrigin": {"echo"},
			// The bucket lets the app origin PUT, and nothing else.
			"bucket.cors.0.allowedOrigins": {srv.testURL(App)},
			"bucket.cors.0.allowedMethods": {"PUT"},
			"run":                          {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		run := waitRun(t, srv, id, 1)
		if !run.Browser.OK || run.Browser.Status != 200 {
			t.Fatalf("POST /uploads: ok=%v status=%d error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		var upload struct{ Method, URL string }
		if err := json.Unmarshal([]byte(run.Browser.Body), &upload); err != nil || upload.Method != "PUT" {
			t.Fatalf("POST /uploads answered %q (%v)", run.Browser.Body, err)
		}
		bucket := srv.testURL(S3) + "/" + id
		path, ok := strings.CutPrefix(upload.URL, bucket)
		if !ok || !strings.Contains(path, "X-Amz-Signature=") {
			t.Fatalf("upload URL %q is not a signed URL of bucket %s", upload.URL, bucket)
		}

		// 2. PUT the file to the signed URL, from the same page.
		const body = "uploaded by Chromium through a presigned PUT"
		q.Del("request.path")
		q.Set("request.target", "s3")
		q.Set("request.method", "PUT")
		q.Set("request.path", path)
		q.Set("request.body", body)
		openLab(t, tab, srv.testURL(UI)+"/lab/"+id+"?"+q.Encode())
		run = waitRun(t, srv, id, 2)
		if !run.Browser.OK || run.Browser.Status != 200 {
			t.Fatalf("PUT to the signed URL: ok=%v status=%d error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		if run.Verdict == nil || !run.Verdict.Agrees {
			t.Errorf("the engine disagrees: %+v", run.Verdict)
		}
		ex := runExchanges(t, srv, id, run)
		if len(ex) != 2 || ex[0].Kind != capture.KindPreflight || ex[0].Response.Status != 200 || ex[1].Request.Method != "PUT" {
			t.Fatalf("want a preflight S3 allowed, then the PUT: %s", summarize(ex))
		}
		if acac, _ := ex[0].Response.Header("Access-Control-Allow-Credentials"); acac != "true" {
			t.Errorf("S3's preflight answer to a rule naming the origin: ACAC %q, want true", acac)
		}

		// The object is in the bucket.
		resp, err := http.Get(bucket + "/from-the-browser.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(got) != body {
			t.Errorf("GET the uploaded object: %d %q, want 200 %q", resp.StatusCode, got, body)
		}
	})

	t.Run("one-origin: the app proxies api and bucket, and no CORS header is needed", func(t *testing.T) {
		tab := newTab(t, browser)
		q := url.Values{
			"setup":        {"one-origin"},
			"request.path": {"/files/hello.txt"},
			"run":          {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		run := waitRun(t, srv, id, 1)
		if !run.Browser.OK || run.Browser.Status != 200 || run.Browser.Body != origins.HelloText || !run.Browser.Redirected {
			t.Fatalf("ok=%v status=%d redirected=%v body=%q error=%q, want hello.txt after a redirect",
				run.Browser.OK, run.Browser.Status, run.Browser.Redirected, run.Browser.Body, run.Browser.Error)
		}
		if run.Browser.Type != "basic" {
			t.Errorf("response type %q, want basic: everything was same-origin", run.Browser.Type)
		}
		if run.Verdict == nil || !run.Verdict.OK || !run.Verdict.Agrees {
			t.Errorf("engine verdict %+v, want ok and agreeing", run.Verdict)
		}
		ex := runExchanges(t, srv, id, run)
		// The browser's two requests to app, each passed on by the proxy:
		// GET /api/files/hello.txt to the api, GET /files/hello.txt?… to s3.
		byOrigin := map[string]int{}
		for _, e := range ex {
			byOrigin[e.Origin]++
			for _, h := range e.Response.Headers {
				if strings.HasPrefix(strings.ToLower(h[0]), "access-control-") {
					t.Errorf("exchange #%d (%s) answered %s: %s, want no CORS header at all", e.Seq, e.Origin, h[0], h[1])
				}
			}
			if e.Origin != "app" {
				if via, _ := e.Request.Header("Via"); via != proxyVia {
					t.Errorf("exchange #%d on %s: Via %q, want the proxy's %q", e.Seq, e.Origin, via, proxyVia)
				}
			}
		}
		if byOrigin["app"] != 2 || byOrigin["api"] != 1 || byOrigin["s3"] != 1 {
			t.Errorf("exchanges by origin %v, want app 2, api 1, s3 1: %s", byOrigin, summarize(ex))
		}
	})

	t.Run("one-origin with an edge authorizer's Origin: S3 answers with CORS headers", func(t *testing.T) {
		tab := newTab(t, browser)
		const added = "https://www.example.test"
		q := url.Values{
			"setup":                        {"one-origin"},
			"request.path":                 {"/files/hello.txt"},
			"proxy.addOrigin":              {added},
			"bucket.cors.0.allowedOrigins": {added},
			"bucket.cors.0.allowedMethods": {"GET"},
			"run":                          {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		run := waitRun(t, srv, id, 1)
		if !run.Browser.OK || run.Browser.Body != origins.HelloText {
			t.Fatalf("ok=%v body=%q error=%q", run.Browser.OK, run.Browser.Body, run.Browser.Error)
		}
		var s3hop *capture.Exchange
		for _, e := range runExchanges(t, srv, id, run) {
			if e.Origin == "s3" {
				s3hop = &e
			}
		}
		if s3hop == nil {
			t.Fatal("no exchange reached s3")
		}
		origin, _ := s3hop.Request.Header("Origin")
		acao, _ := s3hop.Response.Header("Access-Control-Allow-Origin")
		if origin != added || acao != added {
			t.Errorf("at s3: Origin %q, ACAO %q; want both %q", origin, acao, added)
		}
	})

	t.Run("a signed URL used after it expired: S3 says so", func(t *testing.T) {
		tab := newTab(t, browser)
		// The two-phase variant: the api answers with the URL, which the
		// page fetches later. A * rule lets the page read S3's error.
		q := url.Values{
			"request.path":                 {"/files/hello.txt"},
			"api.allowOrigin":              {"*"},
			"api.redirect":                 {"0"},
			"api.signedUrlExpires":         {"1"},
			"bucket.cors.0.allowedOrigins": {"*"},
			"bucket.cors.0.allowedMethods": {"GET"},
			"run":                          {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		run := waitRun(t, srv, id, 1)
		path, ok := strings.CutPrefix(run.Browser.Body, srv.testURL(S3)+"/"+id)
		if !run.Browser.OK || !ok {
			t.Fatalf("the two-phase answer: ok=%v body=%q", run.Browser.OK, run.Browser.Body)
		}
		// X-Amz-Date has whole seconds: after 2 s, 1 s of validity is over
		// for sure.
		time.Sleep(2100 * time.Millisecond)
		q.Set("request.target", "s3")
		q.Set("request.path", path)
		openLab(t, tab, srv.testURL(UI)+"/lab/"+id+"?"+q.Encode())
		run = waitRun(t, srv, id, 2)
		if !run.Browser.OK || run.Browser.Status != 403 || !strings.Contains(run.Browser.Body, "<Message>Request has expired</Message>") {
			t.Errorf("the expired URL: ok=%v status=%d body=%q, want S3's readable 403 \"Request has expired\"",
				run.Browser.OK, run.Browser.Status, run.Browser.Body)
		}
	})
}
