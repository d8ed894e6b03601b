package playground

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/ratelimit"
)

// TestMatrixInBrowser runs article 000's experiment through the matrix
// page in each engine: every cell a real fetch() from the runner frame, a
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
// Every cell's engine verdict must agree with the browser. An engine whose
// table departs from the standard's names the departure, as the
// conformance suite's cases do.
func TestMatrixInBrowser(t *testing.T) {
	srv := startServer(t, 50)
	browsertest.Each(t, func(t *testing.T, browser browsertest.Browser) {
		matrixInBrowser(t, srv, browser.NewTab(t), browser.Engine())
	})
}

func matrixInBrowser(t *testing.T, srv *Server, tab browsertest.Tab, engine string) {

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
		differs            []matrixDifference
	}{
		{"three-origins", "include", [3][4]string{
			{api303, api303, api303, api303},
			{api303, api303, api303, api303},
			{nullS3GET, nullS3GET, nullPass, nullS3GET},
		}, nil},
		{"three-origins", "same-origin", [3][4]string{
			{api303, api303, api303, api303},
			{nullS3GET, nullPass, nullPass, nullS3GET},
			{nullS3GET, nullPass, nullPass, nullS3GET},
		}, nil},
		{"two-origins", "include", [3][4]string{
			{s3GET, s3GET, s3GET, pass},
			{s3GET, s3GET, s3GET, pass},
			{s3GET, s3GET, s3GET, pass},
		}, nil},
		{"two-origins", "same-origin", [3][4]string{
			{s3GET, pass, s3GET, pass},
			{s3GET, pass, s3GET, pass},
			{s3GET, pass, s3GET, pass},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.setup+" "+c.credentials, func(t *testing.T) {
			want := c.want
			for _, d := range c.differs {
				if departsHere(t, engine, d.engines, d.field) {
					want = d.want
				}
			}
			id := openMatrix(t, tab, fmt.Sprintf("%s/matrix?setup=%s&credentials=%s&redirect=303&run=1", srv.testURL(UI), c.setup, c.credentials))
			tables := waitMatrix(t, tab)
			if len(tables) != 1 || tables[0].Setup != c.setup || tables[0].Credentials != c.credentials {
				t.Fatalf("tables on the page: %+v", tables)
			}
			got := tables[0]
			if text, want := got.text(), matrixText(want); text != want {
				t.Errorf("%s's table:\n%s\nwant:\n%s", engine, text, want)
			}
			for _, cell := range got.Cells {
				if cell.Agrees != "true" {
					t.Errorf("cell %s (%s %s): the engine model disagrees with %s", cell.Cell, cell.State, cell.Hop, engine)
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
			if loc := jsValue[string](t, tab, "location.href"); strings.Contains(loc, "run=1") {
				t.Errorf("run=1 still in the address bar: %s", loc)
			}
			for _, cell := range []string{"none/none", "page/page"} {
				matrixDetails(t, tab, engine, cell)
			}
		})
	}

	t.Run("last time: the table beside, and the cells that changed", func(t *testing.T) {
		// The first case ran in this browser profile, so its table is in
		// localStorage. Pretend that last time the winning cell failed.
		u := srv.testURL(UI) + "/matrix?setup=three-origins&credentials=include&redirect=303"
		openMatrix(t, tab, u)
		key := "corslab.matrix.v1:three-origins:include:303"
		jsValue[bool](t, tab, fmt.Sprintf(`(() => {
			const last = JSON.parse(localStorage.getItem(%[1]q));
			last.cells["page/null"] = {ok: false, hop: "s3 · redirected GET"};
			localStorage.setItem(%[1]q, JSON.stringify(last));
			return true;
		})()`, key))
		openMatrix(t, tab, u)
		if n := jsValue[int](t, tab, "document.querySelectorAll('.matrix-table.last td.last-cell').length"); n != 12 {
			t.Fatalf("the last-time table has %d cells before running, want 12", n)
		}
		name := map[string]string{browsertest.Chromium: "Chrome", browsertest.Firefox: "Firefox", browsertest.WebKit: "WebKitGTK"}[engine]
		if caption := jsValue[string](t, tab, "document.querySelector('.matrix-table.last caption').textContent"); !strings.Contains(caption, name) {
			t.Errorf("the last-time table's caption %q does not name the browser, %s", caption, name)
		}
		jsValue[any](t, tab, `document.querySelector("#run").click()`)
		waitMatrix(t, tab)
		changed := jsValue[string](t, tab, `[...document.querySelectorAll(".changed")].map((c) => c.tagName + " " + c.dataset.cell).join(", ")`)
		if changed != "BUTTON page/null, TD page/null" {
			t.Errorf("cells marked as changed: %q, want page/null in both tables", changed)
		}
		// The new table replaces the old one in storage.
		if ok := jsValue[bool](t, tab, fmt.Sprintf(`JSON.parse(localStorage.getItem(%q)).cells["page/null"].ok`, key)); !ok {
			t.Errorf("the stored table is still the old one")
		}
	})
}

// A matrixDifference is a table an engine gives that departs from the
// standard's, and the departure field of its table that models it.
type matrixDifference struct {
	engines []string
	field   string
	want    [3][4]string
}

// openMatrix opens a matrix URL and returns the session id from the
// address bar.
func openMatrix(t *testing.T, tab browsertest.Tab, u string) string {
	t.Helper()
	open(t, tab, u)
	waitFor(t, "the matrix's tables", func() bool {
		return jsValue[bool](t, tab, "document.querySelector('#matrices .matrix-block') !== null")
	})
	return jsValue[string](t, tab, "location.pathname.split('/')[2]")
}

// matrixTable is one table as the page shows it.
type matrixTable struct {
	Setup, Credentials string
	Cells              []struct{ Cell, State, Hop, Agrees, NullOrigin string }
}

// waitMatrix waits until the page says the run is done and reads its
// tables off the cells' data attributes.
func waitMatrix(t *testing.T, tab browsertest.Tab) []matrixTable {
	t.Helper()
	// Only a bound on a failure: a whole matrix, or one that waits for
	// corslab's limits, takes longer than a table.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		status := jsValue[string](t, tab, "document.querySelector('#run-status').textContent")
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
	if err := json.Unmarshal([]byte(jsValue[string](t, tab, js)), &tables); err != nil {
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

	// The one session allowed exists and is in use: a new matrix is refused.
	useSession(t, srv, strings.Split(loc, "/")[2][:26])
	status, _, body = get("/matrix")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "Too many sessions") {
		t.Errorf("at --max-sessions: status %d, want 503 and the too-many-sessions page", status)
	}
}

// TestMatrixWithinTheDefaultLimits is issue 12's "done": the whole matrix,
// every setup and credentials mode (9 tables, 108 cells), run three times
// in a row in one corslab with its default rate limits, fills every cell
// with what the browser did each time, the same table each time, and no
// cell is ever corslab's refusal. The third page then runs it twice more,
// so that one session, too, runs it three times back to back.
func TestMatrixWithinTheDefaultLimits(t *testing.T) {
	browser := browsertest.Start(t, browsertest.Chromium)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		SessionRate: ratelimit.PerSecond(DefaultSessionRate),
		IPRate:      ratelimit.PerSecond(DefaultIPRate),
	})
	tab := browser.NewTab(t)

	var first string // the tables of the first run, as text
	check := func(name, id string) {
		t.Helper()
		tables := waitMatrix(t, tab)
		status := jsValue[string](t, tab, "document.querySelector('#run-status').textContent")
		if !strings.HasPrefix(status, "Done: 108 cells") || strings.Contains(status, "not run") || strings.Contains(status, "could not run") {
			t.Errorf("%s: status %q, want all 108 cells done", name, status)
		}
		if len(tables) != 9 {
			t.Fatalf("%s: %d tables, want 9 (3 setups × 3 credentials modes)", name, len(tables))
		}
		var text strings.Builder
		for _, table := range tables {
			if len(table.Cells) != 12 {
				t.Errorf("%s: %s %s has %d cells, want 12", name, table.Setup, table.Credentials, len(table.Cells))
			}
			for _, c := range table.Cells {
				if c.State != "pass" && c.State != "fail" {
					t.Errorf("%s: %s %s cell %s is %q, want the browser's outcome (pass or fail)", name, table.Setup, table.Credentials, c.Cell, c.State)
				}
			}
			fmt.Fprintf(&text, "%s %s\n%s", table.Setup, table.Credentials, table.text())
		}
		if first == "" {
			first = text.String()
		} else if text.String() != first {
			t.Errorf("%s: the tables differ from the first run's:\n%s\nfirst:\n%s", name, text.String(), first)
		}
		// No run of the session carries a refusal of corslab's.
		for _, run := range allRuns(t, srv, id) {
			if len(run.Refused) > 0 {
				t.Errorf("%s: run %d: corslab refused %s", name, run.ID, run.Refused)
			}
		}
	}
	u := srv.testURL(UI) + "/matrix?setup=all&credentials=all&redirect=303&run=1"
	var id string
	for i := range 3 {
		start := time.Now()
		id = openMatrix(t, tab, u)
		check(fmt.Sprintf("opening the matrix, time %d", i+1), id)
		t.Logf("matrix %d (a new session): %.1f s", i+1, time.Since(start).Seconds())
	}
	for i := range 2 {
		start := time.Now()
		jsValue[any](t, tab, `document.querySelector("#run").click()`)
		// The click starts the run at once: the status no longer says Done.
		waitFor(t, "the run to start", func() bool {
			return !strings.HasPrefix(jsValue[string](t, tab, "document.querySelector('#run-status').textContent"), "Done")
		})
		check(fmt.Sprintf("Run again in the third session, time %d", i+2), id)
		t.Logf("matrix %d (the third session again): %.1f s", i+4, time.Since(start).Seconds())
	}
}

// TestMatrixCellCorslabRefusedIsNotRun gives corslab a tiny session limit,
// so that it refuses some of the matrix's requests. A cell whose try was
// refused shows "not run", never ✓ or ✗, and is tried again until the
// browser gives it an outcome: in the end, the table is the one the
// browser gives without any limit.
func TestMatrixCellCorslabRefusedIsNotRun(t *testing.T) {
	browser := browsertest.Start(t, browsertest.Chromium)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// A cell makes 4 or 5 requests of its session: the bucket holds
		// one and a bit, and refills at less than a cell a second.
		SessionRate: ratelimit.Rate{PerSecond: 3, Burst: 6},
	})
	tab := browser.NewTab(t)
	openMatrix(t, tab, srv.testURL(UI)+"/matrix?setup=three-origins&credentials=include&redirect=303")
	// Every state each cell goes through, in order. (Run draws the tables
	// afresh: watch the whole page.)
	jsValue[bool](t, tab, `(() => {
		window.cellStates = {};
		new MutationObserver((records) => {
			for (const { target: cell } of records) {
				if (!cell.matches("button.cell")) continue;
				const states = (window.cellStates[cell.dataset.cell] ??= []);
				if (states[states.length - 1] !== cell.dataset.state) states.push(cell.dataset.state);
				if (cell.dataset.state === "refused") window.sawNotRun = cell.textContent;
			}
		}).observe(document.querySelector("#matrices"), { subtree: true, attributes: true, attributeFilter: ["data-state"] });
		return true;
	})()`)
	jsValue[any](t, tab, `document.querySelector("#run").click()`)
	tables := waitMatrix(t, tab)

	var states map[string][]string
	if err := json.Unmarshal([]byte(jsValue[string](t, tab, "JSON.stringify(window.cellStates)")), &states); err != nil {
		t.Fatal(err)
	}
	refusedCells := 0
	for cell, seq := range states {
		if slices.Contains(seq, "refused") {
			refusedCells++
		}
		for i, state := range seq {
			// Only the last try of a cell may show the browser's outcome:
			// a cell that shows ✓ or ✗ and is then run again was a
			// refused try shown as an outcome.
			if (state == "pass" || state == "fail") && i != len(seq)-1 {
				t.Errorf("cell %s went %v: an outcome before its last try", cell, seq)
			}
		}
	}
	if refusedCells == 0 {
		t.Fatalf("corslab refused no cell's request (states %v): the limit is not tiny enough to test anything", states)
	}
	if face := jsValue[string](t, tab, "window.sawNotRun"); !strings.HasPrefix(face, "not run") || !strings.Contains(face, "corslab refused it") {
		t.Errorf("a refused cell said %q, want \"not run\" and \"corslab refused it\"", face)
	}
	t.Logf("%d of 12 cells had a try corslab refused", refusedCells)

	const (
		api303    = "✗ api · 303 redirect"
		nullS3GET = "✗ s3 · redirected GET [null]"
		nullPass  = "✓ [null]"
	)
	want := matrixText([3][4]string{
		{api303, api303, api303, api303},
		{api303, api303, api303, api303},
		{nullS3GET, nullS3GET, nullPass, nullS3GET},
	})
	if len(tables) != 1 {
		t.Fatalf("tables: %+v", tables)
	}
	if got := tables[0].text(); got != want {
		t.Errorf("the table after corslab's refusals:\n%s\nwant the browser's own:\n%s", got, want)
	}
	for _, c := range tables[0].Cells {
		if c.Agrees != "true" {
			t.Errorf("cell %s (%s %s): agrees %q", c.Cell, c.State, c.Hop, c.Agrees)
		}
	}
}

// refusedRun is a run as GET /runs lists it, as far as refusals go.
type refusedRun struct {
	ID      int             `json:"id"`
	Refused json.RawMessage `json:"refused"`
}

// allRuns lists a session's kept runs, page by page.
func allRuns(t *testing.T, srv *Server, id string) []refusedRun {
	t.Helper()
	var all []refusedRun
	for since := 0; ; {
		var page []refusedRun
		getJSON(t, fmt.Sprintf("%s/api/sessions/%s/runs?since=%d", srv.testURL(UI), id, since), &page)
		if len(page) == 0 || page[len(page)-1].ID <= since {
			return all
		}
		all = append(all, page...)
		since = page[len(page)-1].ID
	}
}

// matrixDetails clicks a cell and checks its details pane: the outcome,
// the model's explanation with its steps, the cell's exchanges (every one
// its run claimed), raw, and the sequence diagram.
func matrixDetails(t *testing.T, tab browsertest.Tab, engine, cell string) {
	t.Helper()
	jsValue[any](t, tab, fmt.Sprintf(`document.querySelector('button.cell[data-cell="%s"]').click()`, cell))
	var got struct {
		Verdict, Why, Lab string
		Exchanges         int
		Diagram           bool
	}
	read := fmt.Sprintf(`JSON.stringify({
		verdict: document.querySelector("#details .details-head .verdict")?.textContent ?? "",
		why: document.querySelector("#details details.why")?.textContent ?? "",
		lab: document.querySelector("#details a.button-link")?.getAttribute("href") ?? "",
		exchanges: document.querySelectorAll("#details .matrix-log .runs .exchange-list details").length,
		diagram: document.querySelector("#details .matrix-diagram svg") !== null,
		cell: %q,
	})`, cell)
	waitFor(t, "cell "+cell+"'s details", func() bool {
		if err := json.Unmarshal([]byte(jsValue[string](t, tab, read)), &got); err != nil {
			t.Fatal(err)
		}
		return got.Verdict != "" && got.Why != ""
	})
	// The api's redirect blocked: its one exchange; else the api's and
	// the bucket's.
	exchanges := 2
	if strings.HasPrefix(jsValue[string](t, tab, fmt.Sprintf(`document.querySelector('button.cell[data-cell="%s"]').dataset.hop`, cell)), "api ") {
		exchanges = 1
	}
	if got.Exchanges != exchanges || !got.Diagram || !strings.Contains(got.Lab, "/lab/") {
		t.Errorf("%s: cell %s's details: %+v, want the model's steps, the cell's %d exchanges, its diagram and a link to the lab", engine, cell, got, exchanges)
	}
}
