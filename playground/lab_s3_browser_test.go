package playground

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
)

// The lab's S3 controls in Chromium: the bucket's rules as a learner edits
// them, the XML the page shows against what the fake S3 stores, the setup
// switch, and following a signed URL the api handed out.
func TestLabS3InBrowser(t *testing.T) {
	browser := browsertest.CDP(t)
	srv := startServer(t, 50)

	t.Run("the bucket editor: the XML shown is the XML S3 stores, through edits and a refused method", func(t *testing.T) {
		tab := newTab(t, browser)
		// Two rules: lists of several entries, a max age, an id that needs
		// escaping in XML, and an origin with one *.
		q := url.Values{
			"bucket.cors.0.id":             {"app & <friends>"},
			"bucket.cors.0.allowedOrigins": {srv.testURL(App), "http://*.example.test"},
			"bucket.cors.0.allowedMethods": {"GET", "PUT", "HEAD"},
			"bucket.cors.0.allowedHeaders": {"content-type", "x-user-id"},
			"bucket.cors.0.exposeHeaders":  {"ETag", "x-amz-request-id"},
			"bucket.cors.0.maxAgeSeconds":  {"600"},
			"bucket.cors.1.allowedOrigins": {"https://docs.example.test"},
			"bucket.cors.1.allowedMethods": {"GET"},
			"bucket.cors.1.maxAgeSeconds":  {"0"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		bucket := srv.testURL(S3) + "/" + id

		// (a) What the page shows is, byte for byte, what GetBucketCors
		// answers.
		shown := corsXMLShown(t, tab)
		stored := getBucketCORS(t, bucket)
		if shown != stored {
			t.Fatalf("the page shows\n%s\nGET ?cors answers\n%s", shown, stored)
		}
		for _, want := range []string{"<ID>app &amp; &lt;friends&gt;</ID>", "<AllowedOrigin>http://*.example.test</AllowedOrigin>", "<MaxAgeSeconds>600</MaxAgeSeconds>", "<MaxAgeSeconds>0</MaxAgeSeconds>"} {
			if !strings.Contains(stored, want) {
				t.Errorf("GET ?cors has no %s:\n%s", want, stored)
			}
		}

		// (b) Untick PUT in rule 1 and add an origin to rule 2, as a
		// learner would.
		setChecked(t, tab, "#f-bucket-cors-0-allowedMethods-PUT", false)
		setField(t, tab, "#f-bucket-cors-1-allowedOrigins", "https://docs.example.test\nhttps://blog.example.test")
		waitFor(t, "the server to have the edited rules", func() bool {
			cors := getScenario(t, srv, id).Bucket.CORS
			return len(cors) == 2 &&
				slices.Equal(cors[0].AllowedMethods, []string{"GET", "HEAD"}) &&
				slices.Equal(cors[1].AllowedOrigins, []string{"https://docs.example.test", "https://blog.example.test"})
		})
		edited := corsXMLShown(t, tab)
		if edited == shown || strings.Contains(edited, "<AllowedMethod>PUT</AllowedMethod>") ||
			!strings.Contains(edited, "<AllowedOrigin>https://blog.example.test</AllowedOrigin>") {
			t.Errorf("the XML view did not follow the edits:\n%s", edited)
		}
		if stored := getBucketCORS(t, bucket); stored != edited {
			t.Errorf("after the edits the page shows\n%s\nGET ?cors answers\n%s", edited, stored)
		}

		// (c) PATCH in the "other" box: S3's own error beside the methods,
		// and the bucket keeps the rules it had.
		setField(t, tab, "#f-bucket-cors-0-allowedMethods-other", "PATCH")
		const errSel = "#err-bucket-cors-0-allowedMethods"
		waitFor(t, "S3's error beside the methods", func() bool {
			return evaluate[bool](t, tab, fmt.Sprintf("!document.querySelector(%q).hidden", errSel))
		})
		if msg := evaluate[string](t, tab, fmt.Sprintf("document.querySelector(%q).textContent", errSel)); !strings.Contains(msg, "Unsupported method is PATCH") {
			t.Errorf("the error beside the methods reads %q", msg)
		}
		if !strings.Contains(corsXMLShown(t, tab), "<AllowedMethod>PATCH</AllowedMethod>") {
			t.Errorf("the XML view does not show what the learner asked for")
		}
		if stored := getBucketCORS(t, bucket); stored != edited {
			t.Errorf("after a refused PATCH, GET ?cors answers\n%s\nwant the previous\n%s", stored, edited)
		}

		// (d) Clear PATCH, then move the page onto the api origin: From
		// follows, and cannot be changed.
		setField(t, tab, "#f-bucket-cors-0-allowedMethods-other", "")
		waitFor(t, "the error to go", func() bool {
			return evaluate[bool](t, tab, fmt.Sprintf("document.querySelector(%q).hidden", errSel))
		})
		setField(t, tab, "#f-setup", "two-origins")
		if from := evaluate[string](t, tab, "document.querySelector('#f-request-from').value"); from != "api" {
			t.Errorf("From after two-origins: %q, want api", from)
		}
		if !evaluate[bool](t, tab, "document.querySelector('#f-request-from').disabled") {
			t.Errorf("From is not disabled in two-origins")
		}
		waitFor(t, "the server to have two-origins", func() bool {
			sc := getScenario(t, srv, id)
			return sc.Setup == "two-origins" && sc.Request.From == "api"
		})
	})

	t.Run("the two-phase fetch: a button puts the signed URL in the form, Run fetches it", func(t *testing.T) {
		tab := newTab(t, browser)
		q := url.Values{
			"request.path":                 {"/files/hello.txt"},
			"api.allowOrigin":              {"*"},
			"api.redirect":                 {"0"},
			"bucket.cors.0.allowedOrigins": {"*"},
			"bucket.cors.0.allowedMethods": {"GET"},
			"run":                          {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		first := waitRun(t, srv, id, 1)
		signed := srv.testURL(S3) + "/" + id + "/hello.txt?"
		if !first.Browser.OK || !strings.HasPrefix(first.Browser.Body, signed) {
			t.Fatalf("the two-phase answer: ok=%v body=%q", first.Browser.OK, first.Browser.Body)
		}

		clickFollowUp(t, tab, "Fetch this signed URL")
		path := evaluate[string](t, tab, "document.querySelector('#f-request-path').value")
		if want := strings.TrimPrefix(first.Browser.Body, srv.testURL(S3)+"/"+id); path != want {
			t.Errorf("the path box holds %q, want %q", path, want)
		}
		if target := evaluate[string](t, tab, "document.querySelector('#f-request-target').value"); target != "s3" {
			t.Errorf("To: %q, want s3", target)
		}
		// Nothing ran by itself.
		time.Sleep(300 * time.Millisecond)
		if runs := countRuns(t, srv, id); runs != 1 {
			t.Fatalf("%d runs after the button, want 1: it must wait for Run", runs)
		}

		run := clickRun(t, tab, srv, id, 2)
		if run.Request.Target != "s3" || run.Request.Method != "GET" || run.URL != first.Browser.Body {
			t.Errorf("run 2: %s %s to %s (%s), want GET the signed URL on s3", run.Request.Method, run.Request.Path, run.Request.Target, run.URL)
		}
		if !run.Browser.OK || run.Browser.Status != 200 || run.Browser.Body != origins.HelloText {
			t.Errorf("run 2: ok=%v status=%d body=%q error=%q, want hello.txt", run.Browser.OK, run.Browser.Status, run.Browser.Body, run.Browser.Error)
		}
		ex := runExchanges(t, srv, id, run)
		if len(ex) != 1 || ex[0].Origin != "s3" {
			t.Errorf("run 2's exchanges: %s, want one on s3", summarize(ex))
		}
	})

	t.Run("one-origin: an upload URL under app's /files/, PUT through the proxy, drawn behind app", func(t *testing.T) {
		tab := newTab(t, browser)
		q := url.Values{
			"setup":          {"one-origin"},
			"request.method": {"POST"},
			"request.path":   {"/uploads/from-the-lab.txt"},
			"run":            {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		if run := waitRun(t, srv, id, 1); !run.Browser.OK || !strings.Contains(run.Browser.Body, srv.testURL(App)+"/"+id+"/files/from-the-lab.txt?") {
			t.Fatalf("POST /uploads through the proxy: ok=%v body=%q", run.Browser.OK, run.Browser.Body)
		}
		// The proxy's hop to the api is drawn from "app (CDN)" to a lane
		// behind it, never from the page.
		const lanesJS = "[...document.querySelectorAll('#diagram .lane-title, #diagram .lane-sub')].map((t) => t.textContent).join('|')"
		waitFor(t, "the diagram to draw the proxy's hop", func() bool {
			return evaluate[int](t, tab, "document.querySelectorAll('#diagram .arrow-group.proxied').length") == 2
		})
		if lanes := evaluate[string](t, tab, lanesJS); !strings.Contains(lanes, "app (CDN)") || !strings.Contains(lanes, "api server|behind app") {
			t.Errorf("the diagram's lanes read %q, want app (CDN) and the api behind app", lanes)
		}

		clickFollowUp(t, tab, "Upload to this signed URL")
		run := clickRun(t, tab, srv, id, 2)
		if run.Request.Target != "s3" || run.Request.Method != "PUT" || !run.Browser.OK || run.Browser.Status != 200 {
			t.Fatalf("run 2: %s to %s, ok=%v status=%d error=%q", run.Request.Method, run.Request.Target, run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		resp, err := http.Get(srv.testURL(S3) + "/" + id + "/from-the-lab.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(got) != "uploaded from the lab" {
			t.Errorf("the uploaded object: %d %q", resp.StatusCode, got)
		}
	})
}

// corsXMLShown is the text of the lab's live XML view of the bucket's rules.
func corsXMLShown(t *testing.T, tab context.Context) string {
	t.Helper()
	return evaluate[string](t, tab, "document.querySelector('#cors-xml').textContent")
}

// getBucketCORS is the fake S3's GetBucketCors over HTTP: GET /<bucket>?cors.
func getBucketCORS(t *testing.T, bucket string) string {
	t.Helper()
	resp, err := http.Get(bucket + "?cors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s?cors: %d %s", bucket, resp.StatusCode, body)
	}
	return string(body)
}

func getScenario(t *testing.T, srv *Server, id string) scenario.Scenario {
	t.Helper()
	var s struct{ Scenario scenario.Scenario }
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id, &s)
	return s.Scenario
}

func countRuns(t *testing.T, srv *Server, id string) int {
	t.Helper()
	var runs []struct{ ID int }
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/runs", &runs)
	return len(runs)
}

// setChecked ticks or unticks a checkbox the way a click would, firing the
// events the page listens to.
func setChecked(t *testing.T, tab context.Context, sel string, on bool) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.checked = %t;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.checked;
	})()`, sel, on)
	if got := evaluate[bool](t, tab, js); got != on {
		t.Fatalf("%s: set checked %v, reads %v", sel, on, got)
	}
}

// clickFollowUp waits for the newest run's signed-URL button, checks its
// words and clicks it.
func clickFollowUp(t *testing.T, tab context.Context, label string) {
	t.Helper()
	const sel = "#log .run-group .follow-signed"
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("waiting for the signed-URL button: %v", err)
	}
	if got := evaluate[string](t, tab, fmt.Sprintf("document.querySelector(%q).textContent", sel)); got != label {
		t.Errorf("the button reads %q, want %q", got, label)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("clicking the signed-URL button: %v", err)
	}
	// The page says what changed, and that Run is the learner's to press.
	waitFor(t, "the run status to ask for Run", func() bool {
		return strings.Contains(evaluate[string](t, tab, "document.querySelector('#run-status').textContent"), "Press Run")
	})
}
