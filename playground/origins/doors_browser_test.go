package origins

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// doorsPage is a page that uses the api's doors from base (a session's
// URL on the api origin): the image, the stylesheet, the font through
// @font-face and the script, whose error window.onerror records. With
// crossOrigin the script is loaded with the crossorigin attribute, in CORS
// mode; the font always is.
func doorsPage(base string, crossOrigin bool) string {
	b := html.EscapeString(base)
	attr := ""
	if crossOrigin {
		attr = " crossorigin"
	}
	return fmt.Sprintf(`<!doctype html>
<meta charset=utf-8>
<title>corslab doors</title>
<style>
@font-face { font-family: corslab-door; src: url(%[1]s/font.ttf) format("truetype"); }
#font-probe { font: 16px corslab-door, monospace; position: absolute; white-space: pre; }
</style>
<link rel=stylesheet href="%[1]s/style.css">
<body data-base="%[1]s">
<img id=image src="%[1]s/image.png" alt="">
<div id=style-probe class=%[2]s></div>
<span id=font-probe>%[3]s</span>
<script>
window.doorErrors = [];
window.onerror = (message, source, line, column, error) => {
	doorErrors.push({message: String(message), error: error ? String(error.message) : null});
};
</script>
<script src="%[1]s/script.js"%[4]s></script>
`, b, StyleProbeClass, FontGlyph, attr)
}

// doorsResult is what the page observed.
type doorsResult struct {
	Image      [2]int    `json:"image"` // naturalWidth, naturalHeight
	ProbeWidth float64   `json:"probeWidth"`
	FontWidth  float64   `json:"fontWidth"` // of FontGlyph at 16px
	FontStatus string    `json:"fontStatus"`
	Errors     []onerror `json:"errors"`
	Events     []string  `json:"events"` // what EventSource received before the stream ended or failed
	EventsEnd  string    `json:"eventsEnd"`
}

type onerror struct {
	Message string  `json:"message"`
	Error   *string `json:"error"` // the thrown error's message; null when muted
}

func (e onerror) String() string {
	if e.Error == nil {
		return fmt.Sprintf("%q (no error object)", e.Message)
	}
	return fmt.Sprintf("%q (error %q)", e.Message, *e.Error)
}

// doorsProbe reads what the page observed once its font is settled.
const doorsProbe = `(async () => {
	// EventSource reconnects when a stream ends, after the server's retry
	// (a minute): the first error ends the test's stream either way.
	const events = [];
	const eventsEnd = new Promise(resolve => {
		const source = new EventSource(document.body.dataset.base + "/events");
		source.onmessage = e => events.push(e.data);
		source.onerror = () => {
			resolve(source.readyState === EventSource.CLOSED ? "failed" : "ended, will reconnect");
			source.close();
		};
	});
	await document.fonts.load("16px corslab-door", "X").catch(() => null);
	await document.fonts.ready;
	const face = [...document.fonts].find(f => f.family.replace(/"/g, "") === "corslab-door");
	const image = document.getElementById("image");
	return {
		image: [image.naturalWidth, image.naturalHeight],
		probeWidth: document.getElementById("style-probe").getBoundingClientRect().width,
		fontWidth: document.getElementById("font-probe").getBoundingClientRect().width,
		fontStatus: face ? face.status : "no FontFace",
		errors: window.doorErrors,
		eventsEnd: await eventsEnd,
		events,
	};
})()`

// Where engines depart from the standards on these doors, as observed in
// Debian's Chromium 156, Firefox ESR 153 and WebKitGTK 2.50.
var (
	// WebKit fetches @font-face in no-cors mode (Sec-Fetch-Mode: no-cors,
	// no Origin) and uses a font from any origin, where CSS Fonts says a
	// font is fetched in CORS mode:
	// https://drafts.csswg.org/css-fonts/#font-fetching-requirements
	fontWithoutCORS = []string{browsertest.WebKit}
	// Firefox does not mute an error thrown at the top level of a
	// classic script from another origin, fetched without CORS: onerror
	// gets the message and the error object, where HTML says "Script
	// error." and null (html.spec.whatwg.org/#muted-errors). Muting is a
	// known interop gap: https://github.com/whatwg/html/issues/10514
	thrownNotMuted = []string{browsertest.Firefox}
)

// The api's doors in every engine: a page loads the api's image,
// stylesheet, font and script, and opens its event stream, from its own
// origin and from another (another port), where the session's CORS policy
// decides what the page may see.
func TestAPIAssetsInBrowsers(t *testing.T) {
	st := session.NewStore(session.Options{Max: 2, Idle: time.Hour})
	newSession := func(allowOrigin string) *session.Session {
		sc := scenario.Default()
		sc.API.AllowOrigin = allowOrigin
		s, err := st.Create(sc)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	echo, none := newSession("echo"), newSession("")
	api := API(func(*http.Request, string, string) (string, bool) { return "", false }, nil)
	// Each server is an origin of its own (another port): /page is the
	// test page, anything else the api origin, in the session the path
	// names.
	var (
		mu        sync.Mutex
		fontModes []string // Sec-Fetch-Mode of each font request
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/font.ttf") {
			mu.Lock()
			fontModes = append(fontModes, r.Header.Get("Sec-Fetch-Mode"))
			mu.Unlock()
		}
		if r.URL.Path == "/page" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, doorsPage(r.URL.Query().Get("base"), r.URL.Query().Has("crossorigin")))
			return
		}
		for _, s := range []*session.Session{echo, none} {
			if strings.HasPrefix(r.URL.Path, "/"+s.ID+"/") {
				r = r.WithContext(session.NewContext(r.Context(), s))
			}
		}
		api.ServeHTTP(w, r)
	})
	pageSrv, apiSrv := httptest.NewServer(handler), httptest.NewServer(handler)
	t.Cleanup(pageSrv.Close)
	t.Cleanup(apiSrv.Close)

	const fontPx = 16
	cases := []struct {
		desc        string
		base        string
		crossOrigin bool
		// corsAllows: the policy allows the page's origin, so the font
		// applies and EventSource gets its events. wantMessage: onerror
		// sees the script's message (not muted).
		corsAllows  bool
		wantMessage bool
	}{
		{"same origin", pageSrv.URL + "/" + echo.ID, false, true, true},
		{"another origin, the policy echoes the Origin, crossorigin script", apiSrv.URL + "/" + echo.ID, true, true, true},
		{"another origin, the policy echoes the Origin, script without crossorigin", apiSrv.URL + "/" + echo.ID, false, true, false},
		{"another origin, no CORS", apiSrv.URL + "/" + none.ID, false, false, false},
	}
	browsertest.Each(t, func(t *testing.T, b browsertest.Browser) {
		tab := b.NewTab(t)
		engine := b.Engine()
		for _, c := range cases {
			mu.Lock()
			fontModes = nil
			mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			q := "?base=" + c.base
			if c.crossOrigin {
				q += "&crossorigin"
			}
			if err := tab.Navigate(ctx, pageSrv.URL+"/page"+q); err != nil {
				cancel()
				t.Fatalf("%s: opening the page: %v", c.desc, err)
			}
			var got doorsResult
			err := tab.Eval(ctx, doorsProbe, &got)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", c.desc, err)
			}
			mu.Lock()
			modes := strings.Join(fontModes, ", ")
			mu.Unlock()
			t.Logf("%s: %+v; the font was fetched in mode %q", c.desc, got, modes)

			// <img> and <link rel=stylesheet> need no CORS.
			if got.Image != [2]int{ImageWidth, ImageHeight} {
				t.Errorf("%s: the image is %d×%d, want %d×%d", c.desc, got.Image[0], got.Image[1], ImageWidth, ImageHeight)
			}
			if got.ProbeWidth != StyleProbeWidth {
				t.Errorf("%s: the probe is %vpx wide, want %dpx: the stylesheet did not apply", c.desc, got.ProbeWidth, StyleProbeWidth)
			}
			// The font applied if "X" is FontAdvanceRatio em wide.
			wantFont := c.corsAllows
			if !wantFont && slices.Contains(fontWithoutCORS, engine) {
				t.Logf("%s: %s uses a font from another origin without CORS (the font was fetched in mode %q)", c.desc, engine, modes)
				wantFont = true
			}
			wide := math.Abs(got.FontWidth-FontAdvanceRatio*fontPx) < 0.5
			if wide != wantFont {
				t.Errorf("%s: %q is %vpx wide at %dpx (FontFace %s); want the font applied = %v (%dpx wide)",
					c.desc, FontGlyph, got.FontWidth, fontPx, got.FontStatus, wantFont, FontAdvanceRatio*fontPx)
			}
			// EventSource always uses CORS: all three events, then the end
			// of the stream, or a failure with none.
			wantEvents, wantEnd := []string{`{"n":1,"user":null}`, `{"n":2,"user":null}`, `{"n":3,"user":null}`}, "ended, will reconnect"
			if !c.corsAllows {
				wantEvents, wantEnd = nil, "failed"
			}
			if !slices.Equal(got.Events, wantEvents) || got.EventsEnd != wantEnd {
				t.Errorf("%s: EventSource received %q and %s; want %q and %s", c.desc, got.Events, got.EventsEnd, wantEvents, wantEnd)
			}
			// The script ran and threw; onerror saw the message, or, muted,
			// only "Script error." and no error object.
			if len(got.Errors) != 1 {
				t.Errorf("%s: window.onerror saw %+v, want one error", c.desc, got.Errors)
				continue
			}
			e := got.Errors[0]
			wantMessage := c.wantMessage
			if !wantMessage && slices.Contains(thrownNotMuted, engine) {
				t.Logf("%s: %s does not mute the cross-origin script's error", c.desc, engine)
				wantMessage = true
			}
			if wantMessage {
				if !strings.Contains(e.Message, ScriptErrorMessage) || e.Error == nil || *e.Error != ScriptErrorMessage {
					t.Errorf("%s: window.onerror saw %v, want %q", c.desc, e, ScriptErrorMessage)
				}
			} else if e.Message != "Script error." || e.Error != nil {
				t.Errorf("%s: window.onerror saw %v, want the muted \"Script error.\" and no error object", c.desc, e)
			}
		}
	})
}
