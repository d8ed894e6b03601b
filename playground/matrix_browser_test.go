package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
)

// TestMatrixInBrowser runs article 000's experiment through the matrix
// page in Chromium: every cell a real fetch() from the runner frame, a
// redirect from the api to a presigned URL on the fake S3. The want tables
// are what the Fetch standard says, and what the article measured:
//
//   - three origins, credentials included: the api must allow the page's
//     origin with credentials (a CORS check applies to the redirect
//     itself), and the redirected request carries Origin: null (the
//     origin is tainted by the cross-origin redirect), so only a bucket
//     rule for "null" works: S3 answers a non-* rule with ACAO null and
//     ACAC true.
//   - three origins without credentials: * is enough at the api, and the
//     bucket may answer * or null.
//   - two origins: the first hop is same-origin (no CORS check, the api's
//     headers do not matter) and the redirected request carries the page's
//     own origin: * works without credentials, the page's origin with or
//     without.
//
// Every cell's engine verdict must agree with Chromium.
func TestMatrixInBrowser(t *testing.T) {
	browser := browsertest.Chromium(t)
	srv := startServer(t, 50)
	tab := newTab(t, browser)

	// Rows: what the api sends; columns: the bucket's CORS rules.
	// A cell whose hop to s3 carried Origin: null, pass or fail, says so.
	const (
		api303    = "✗ api · 303 redirect"
		s3GET     = "✗ s3 · redirected GET"
		pass      = "✓"
		nullS3GET = s3GET + " [null]"
		nullPass  = pass + " [null]"
	)
	cases := []struct {
		setup, credentials string
		want               [3][4]string // rows none, *, page origin + credentials × columns none, *, null, page origin
	}{
		{"three-origins", "include", [3][4]string{
			{api303, api303, api303, api303},
			{api303, api303, api303, api303},
			{nullS3GET, nullS3GET, nullPass, nullS3GET},
		}},
		{"three-origins", "same-origin", [3][4]string{
			{api303, api303, api303, api303},
			{nullS3GET, nullPass, nullPass, nullS3GET},
			{nullS3GET, nullPass, nullPass, nullS3GET},
		}},
		{"two-origins", "include", [3][4]string{
			{s3GET, s3GET, s3GET, pass},
			{s3GET, s3GET, s3GET, pass},
			{s3GET, s3GET, s3GET, pass},
		}},
		{"two-origins", "same-origin", [3][4]string{
			{s3GET, pass, s3GET, pass},
			{s3GET, pass, s3GET, pass},
			{s3GET, pass, s3GET, pass},
		}},
	}
	for _, c := range cases {
		t.Run(c.setup+" "+c.credentials, func(t *testing.T) {
			id := openMatrix(t, tab, fmt.Sprintf("%s/matrix?setup=%s&credentials=%s&redirect=303&run=1", srv.testURL(UI), c.setup, c.credentials))
			tables := waitMatrix(t, tab)
			if len(tables) != 1 || tables[0].Setup != c.setup || tables[0].Credentials != c.credentials {
				t.Fatalf("tables on the page: %+v", tables)
			}
			got := tables[0]
			if text, want := got.text(), matrixText(c.want); text != want {
				t.Errorf("Chromium's table:\n%s\nwant:\n%s", text, want)
			}
			for _, cell := range got.Cells {
				if cell.Agrees != "true" {
					t.Errorf("cell %s (%s %s): the engine disagrees with Chromium", cell.Cell, cell.State, cell.Hop)
				}
			}
			var runs []json.RawMessage
			getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/runs", &runs)
			if len(runs) != 12 {
				t.Errorf("the session has %d runs, want one per cell, 12", len(runs))
			}
			// The learner's scenario is put back: this one is a new
			// session's, the default.
			if got, want := scenarioJSON(t, srv, id), defaultScenarioJSON(t, srv); got != want {
				t.Errorf("the scenario was not restored:\n got %s\nwant %s", got, want)
			}
			if loc := evaluate[string](t, tab, "location.href"); strings.Contains(loc, "run=1") {
				t.Errorf("run=1 still in the address bar: %s", loc)
			}
		})
	}

	t.Run("last time: the table beside, and the cells that changed", func(t *testing.T) {
		// The first case ran in this browser profile, so its table is in
		// localStorage. Pretend that last time the winning cell failed.
		u := srv.testURL(UI) + "/matrix?setup=three-origins&credentials=include&redirect=303"
		openMatrix(t, tab, u)
		key := "corslab.matrix.v1:three-origins:include:303"
		evaluate[bool](t, tab, fmt.Sprintf(`(() => {
			const last = JSON.parse(localStorage.getItem(%[1]q));
			last.cells["page/null"] = {ok: false, hop: "s3 · redirected GET"};
			localStorage.setItem(%[1]q, JSON.stringify(last));
			return true;
		})()`, key))
		openMatrix(t, tab, u)
		if n := evaluate[int](t, tab, "document.querySelectorAll('.matrix-table.last td.last-cell').length"); n != 12 {
			t.Fatalf("the last-time table has %d cells before running, want 12", n)
		}
		if caption := evaluate[string](t, tab, "document.querySelector('.matrix-table.last caption').textContent"); !strings.Contains(caption, "Chrome") {
			t.Errorf("the last-time table's caption %q does not name the browser", caption)
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#run"))); err != nil {
			t.Fatal(err)
		}
		waitMatrix(t, tab)
		changed := evaluate[string](t, tab, `[...document.querySelectorAll(".changed")].map((c) => c.tagName + " " + c.dataset.cell).join(", ")`)
		if changed != "BUTTON page/null, TD page/null" {
			t.Errorf("cells marked as changed: %q, want page/null in both tables", changed)
		}
		// The new table replaces the old one in storage.
		if ok := evaluate[bool](t, tab, fmt.Sprintf(`JSON.parse(localStorage.getItem(%q)).cells["page/null"].ok`, key)); !ok {
			t.Errorf("the stored table is still the old one")
		}
	})
}

// openMatrix opens a matrix URL and returns the session id from the
// address bar.
func openMatrix(t *testing.T, tab context.Context, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("#matrices .matrix-block"))); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
	return evaluate[string](t, tab, "location.pathname.split('/')[2]")
}

// matrixTable is one table as the page shows it.
type matrixTable struct {
	Setup, Credentials string
	Cells              []struct{ Cell, State, Hop, Agrees, NullOrigin string }
}

// waitMatrix waits until the page says the run is done and reads its
// tables off the cells' data attributes.
func waitMatrix(t *testing.T, tab context.Context) []matrixTable {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status := evaluate[string](t, tab, "document.querySelector('#run-status').textContent")
		if strings.HasPrefix(status, "Done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the matrix did not finish; status %q", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var tables []matrixTable
	js := `JSON.stringify([...document.querySelectorAll(".matrix-block")].map((b) => ({
		setup: b.dataset.setup, credentials: b.dataset.credentials,
		cells: [...b.querySelectorAll("button.cell")].map((c) => ({
			cell: c.dataset.cell, state: c.dataset.state, hop: c.dataset.hop, agrees: c.dataset.agrees,
			nullOrigin: c.dataset.nullOrigin,
		})),
	})))`
	if err := json.Unmarshal([]byte(evaluate[string](t, tab, js)), &tables); err != nil {
		t.Fatal(err)
	}
	return tables
}

// The table as text, one line a row: "✓", or "✗ " and the failing hop.
var (
	matrixRows    = [3]string{"no CORS", "*", "page origin + credentials"}
	matrixColumns = [4]string{"none", "*", "null", "page origin"}
)

func (m matrixTable) text() string {
	var cells [3][4]string
	for _, c := range m.Cells {
		rowKey, colKey, _ := strings.Cut(c.Cell, "/")
		row := map[string]int{"none": 0, "star": 1, "page": 2}[rowKey]
		col := map[string]int{"none": 0, "star": 1, "null": 2, "page": 3}[colKey]
		switch c.State {
		case "pass":
			cells[row][col] = "✓"
		case "fail":
			cells[row][col] = "✗ " + c.Hop
		default:
			cells[row][col] = c.State
		}
		if c.NullOrigin == "true" {
			cells[row][col] += " [null]"
		}
	}
	return matrixText(cells)
}

func matrixText(cells [3][4]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-26s", "api ↓  bucket →")
	for _, c := range matrixColumns {
		fmt.Fprintf(&b, " | %-22s", c)
	}
	b.WriteString("\n")
	for i, row := range cells {
		fmt.Fprintf(&b, "%-26s", matrixRows[i])
		for _, c := range row {
			fmt.Fprintf(&b, " | %-22s", c)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func scenarioJSON(t *testing.T, srv *Server, id string) string {
	t.Helper()
	var s struct{ Scenario json.RawMessage }
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id, &s)
	return string(s.Scenario)
}

func defaultScenarioJSON(t *testing.T, srv *Server) string {
	t.Helper()
	return scenarioJSON(t, srv, createSession(t, srv, "").ID)
}

// TestMatrixLinks checks the matrix's permalinks without a browser.
func TestMatrixLinks(t *testing.T) {
	srv := startServer(t, 1)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := client.Get(srv.testURL(UI) + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}

	status, _, body := get("/matrix?setup=four-origins&credentials=include&redirect=300&colour=red")
	if status != http.StatusBadRequest {
		t.Errorf("bad parameters: status %d, want 400", status)
	}
	for _, want := range []string{
		"<code>setup</code>: must be three-origins, two-origins, one-origin or all; got &#34;four-origins&#34;",
		"<code>redirect</code>: the api&#39;s redirect status must be 301, 302, 303, 307 or 308; got &#34;300&#34;",
		"<code>colour</code>: unknown parameter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the bad-link page does not say %s", want)
		}
	}

	status, loc, _ := get("/matrix?credentials=omit&run=1")
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/matrix/") || !strings.HasSuffix(loc, "?setup=three-origins&credentials=omit&redirect=303&run=1") {
		t.Fatalf("GET /matrix: %d to %q, want 303 to the new session's matrix, settings and run=1 kept", status, loc)
	}
	status, _, body = get(loc)
	if status != http.StatusOK || !strings.Contains(body, `"credentials":"omit"`) || !strings.Contains(body, `"runOnLoad":true`) {
		t.Errorf("GET %s: %d, page data missing the settings", loc, status)
	}

	// The one session allowed exists: a new matrix is refused.
	status, _, body = get("/matrix")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "Too many sessions") {
		t.Errorf("at --max-sessions: status %d, want 503 and the too-many-sessions page", status)
	}
}
