package playground

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	rs "github.com/rs/cors"

	"github.com/corslab/corslab/internal/browsertest"
)

// The lab's probe panel in Chromium: opened, it offers the scenario's URL
// (yours.baseUrl + path); filled with an origin the learner's browser
// could never send and Firefox's rules, Probe shows the label, the
// model's verdict and the raw exchanges of a real rs/cors server; Scan
// shows its report. In a workshop without --allow-targets the panel
// says the probe is off instead.
func TestProbePanelInBrowser(t *testing.T) {
	api := httptest.NewServer(rs.New(rs.Options{
		AllowedOrigins: []string{"http://localhost:5173"},
		AllowedMethods: []string{"GET", "PUT"},
	}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "items") })))
	t.Cleanup(api.Close)
	axe := browsertest.Axe(t)
	srv := startServer(t, 5)
	browser := browsertest.CDP(t)
	tab := newTab(t, browser)
	q := url.Values{"request.target": {"yours"}, "yours.baseUrl": {api.URL + "/v1"}, "request.path": {"/items"}, "request.method": {"PUT"}}
	openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())

	evaluate[bool](t, tab, `(document.querySelector("#probe-panel > summary").click(), true)`)
	waitProbeJS(t, tab, "the panel's form, filled from the scenario", `document.querySelector("#probe-url")?.value !== "" && document.querySelector("#probe-method")?.value === "PUT"`)
	if got, want := evaluate[string](t, tab, `document.querySelector("#probe-url").value`), api.URL+"/v1/items"; got != want {
		t.Errorf("the URL field offers %q, want the scenario's %q", got, want)
	}
	setField(t, tab, "#probe-url", api.URL+"/items")
	setField(t, tab, "#probe-origin", "http://localhost:5173")
	setField(t, tab, "#probe-browser", "firefox")
	evaluate[bool](t, tab, `(document.querySelector(".probe-go").click(), true)`)
	waitProbeJS(t, tab, "the probe's answer", `!!document.querySelector(".probe-verdict")`)

	label := evaluate[string](t, tab, `document.querySelector(".probe-label").textContent`)
	if !strings.Contains(label, "predicted by corslab's model of Firefox; no browser ran this") {
		t.Errorf("label %q", label)
	}
	verdict := evaluate[string](t, tab, `document.querySelector(".probe-verdict").className + " " + document.querySelector(".probe-verdict").textContent`)
	if !strings.Contains(verdict, "ok") || !strings.Contains(verdict, "JS gets the response") {
		t.Errorf("verdict %q, want JS gets the response", verdict)
	}
	// The panel with its answer, then a scan's, has nothing axe-core
	// finds wrong.
	for _, v := range axeRun(t, tab, axe) {
		t.Errorf("after Probe: %s (%s): %s\n  at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
	}
	raw := evaluate[string](t, tab, `[...document.querySelectorAll(".probe-raw pre")].map((p) => p.textContent).join("\n")`)
	for _, want := range []string{"OPTIONS /items HTTP/1.1", "Origin: http://localhost:5173", "PUT /items HTTP/1.1", "Access-Control-Allow-Origin: http://localhost:5173"} {
		if !strings.Contains(raw, want) {
			t.Errorf("the raw exchanges lack %q:\n%s", want, raw)
		}
	}

	evaluate[bool](t, tab, `(document.querySelectorAll(".probe-go")[1].click(), true)`)
	waitProbeJS(t, tab, "the scan's answer", `!!document.querySelector(".probe-checks")`)
	if got := evaluate[string](t, tab, `document.querySelector(".probe-label").textContent`); !strings.Contains(got, "no browser ran this") {
		t.Errorf("scan label %q", got)
	}
	for _, v := range axeRun(t, tab, axe) {
		t.Errorf("after Scan: %s (%s): %s\n  at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
	}

	// In a workshop without --allow-targets the panel says why the probe
	// is off, and offers no button.
	workshop := startServerWith(t, workshopConfig(t, ""))
	off := newTab(t, browser)
	openLab(t, off, workshop.testURL(UI)+"/lab")
	evaluate[bool](t, off, `(document.querySelector("#probe-panel > summary").click(), true)`)
	waitProbeJS(t, off, "the panel to say it is off", `!!document.querySelector(".probe-off")`)
	if got := evaluate[string](t, off, `document.querySelector(".probe-off").textContent`); !strings.Contains(got, "--allow-targets") {
		t.Errorf("in a workshop the panel says %q, want how to turn the probe on", got)
	}
	if evaluate[bool](t, off, `!!document.querySelector(".probe-go")`) {
		t.Error("in a workshop the panel offers Probe or Scan, which are off")
	}
}

// waitProbeJS waits until expr is true in the tab.
func waitProbeJS(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !evaluate[bool](t, tab, expr) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
