// Package views holds corslab's templ components and the view models they
// render. Components never load data: the handlers in playground fill these
// structs and pass them in.
package views

import (
	"sort"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/class"
	"github.com/corslab/corslab/playground/scenario"
)

// Origin is one virtual origin as the learner's browser sees it.
type Origin struct {
	Role  string `json:"role"`  // "app", "api", "s3", "evil"
	Label string `json:"label"` // e.g. "app — the frontend"
	URL   string `json:"url"`   // "http://127.0.0.1:8081" (scheme://host:port, built from the host the browser used)
	Base  string `json:"base"`  // URL + "/" + session id: the session-scoped base, e.g. "http://127.0.0.1:8082/k3xq..."
}

// LabData is everything the lab page shows when it is first rendered. The
// page hands all of it to lab.js as JSON, under these names.
type LabData struct {
	SessionID string            `json:"sessionId"`
	UIOrigin  string            `json:"uiOrigin"` // "http://127.0.0.1:8080"
	Origins   []Origin          `json:"origins"`  // app, api, s3, evil in that order
	Scenario  scenario.Scenario `json:"scenario"`
	Query     string            `json:"query"`     // permalink query for the current scenario, without "?" (may be "")
	ShareURL  string            `json:"shareUrl"`  // UIOrigin + "/lab" + ("?"+Query if non-empty): a link that opens a NEW session with this scenario
	RunOnLoad bool              `json:"runOnLoad"` // the URL had run=1: run once on load, then drop run=1 from the address bar
	// LastSeq is the session's newest exchange when the page was rendered:
	// a run started before the stream catches up claims only what is newer.
	LastSeq uint64 `json:"lastSeq"`
	// Score is how many of the learner's predictions were right so far. Nil
	// when the handler does not fill it: lab.js then asks
	// GET /api/sessions/{id}, and shows no score if that has none either.
	Score *Score `json:"score,omitempty"`
	// PagePath is this page's path without the query: "/lab/{id}",
	// "/lessons/{slug}/{id}" or "/embed/{slug}/{id}". The address bar is
	// PagePath + "?" + Query.
	PagePath string `json:"pagePath"`
	// Lesson is set on a lesson page or the embed view; nil on the lab.
	// Query and ShareURL are then relative to the lesson's start.
	Lesson *LessonView `json:"lesson,omitempty"`
	// Embed asks for the compact layout that sits in someone's iframe.
	Embed bool `json:"embed,omitempty"`
	// Predict says whether predict mode starts on (it does in lessons).
	Predict bool `json:"predict,omitempty"`
	// Workshop is set whenever the instructor's dashboard is on (workshop
	// mode, or --teach-token): an instructor could be looking, so the page
	// asks for the nickname the dashboard shows, and tells its session
	// whose it is (workshop.js).
	Workshop bool `json:"workshop,omitempty"`
	// ReadOnly is the instructor's view of a learner's lab
	// (/teach/learners/{id}): it follows the session live, with every
	// control disabled and no runner. Watching is that learner's nickname.
	ReadOnly bool   `json:"readOnly,omitempty"`
	Watching string `json:"watching,omitempty"`
}

// TeachData is the instructor's dashboard when first rendered; teach.js
// then follows the class over the /teach/ws websocket.
type TeachData struct {
	Class class.Snapshot `json:"class"`
	// LearnerURL is the address learners open, e.g.
	// "http://192.168.1.20:8080/lessons".
	LearnerURL string `json:"learnerUrl"`
}

// Score counts a session's predictions: Right of Total were right.
type Score struct {
	Right int `json:"right"`
	Total int `json:"total"`
}

// RunnerData is the tiny page, served by an initiating origin, that performs
// the learner's fetch() when the lab asks it to.
type RunnerData struct {
	Role     string // "app", "evil" or "api": which origin serves this runner
	Origin   string // this runner's origin, e.g. "http://127.0.0.1:8081"
	UIOrigin string // the only origin it accepts messages from and replies to
	// Frame, when not empty, is the kind of frame the page makes and lets
	// call fetch(), passing the lab's messages on: "data" (a document
	// from a data: URL) or "srcdoc" (an <iframe srcdoc> document).
	Frame string
}

// OriginHomeData is the plain page a learner sees when they open a virtual
// origin (e.g. http://127.0.0.1:8081/) in a tab.
type OriginHomeData struct {
	Role, Origin, UIOrigin string
	Origins                []Origin
}

// ErrorData is a full-page error, such as a bad permalink or too many
// sessions.
type ErrorData struct {
	Status  int
	Title   string            // "Too many sessions"
	Message string            // plain words, what happened and what to do
	Fields  map[string]string // optional field errors (e.g. a bad permalink), shown as a list "api.maxAge: must be ..."
	Back    string            // a link to offer, e.g. "/lab"
}

// fieldError is one entry of ErrorData.Fields, in a stable order.
type fieldError struct{ Field, Message string }

func sortedFieldErrors(fields map[string]string) []fieldError {
	out := make([]fieldError, 0, len(fields))
	for f, m := range fields {
		out = append(out, fieldError{f, m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// headerRow is one header, for the editable header rows.
type headerRow struct{ Name, Value string }

// headerEditor describes one list of editable header rows in the lab form
// (headerRowsField).
type headerEditor struct {
	Path    string // the scenario field it edits, and where its errors go: "request.headers"
	Label   string // what the learner reads above the rows
	Noun    string // what one row is: "header" makes "+ Add header", "Remove header X-A"
	Hint    string // shown under the rows; may be ""
	LabelID string // element ids, kept stable for anything that looks them up
	RowsID  string
	AddID   string
}

var (
	requestHeadersEditor = headerEditor{
		Path:    "request.headers",
		Label:   "Request headers",
		Noun:    "header",
		LabelID: "headers-label",
		RowsID:  "header-rows",
		AddID:   "add-header",
	}
	extraHeadersEditor = headerEditor{
		Path:    "api.extraHeaders",
		Label:   "Extra response headers",
		Noun:    "response header",
		Hint:    "Sent on every api response exactly as written, replacing the same header above, e.g. Access-Control-Allow-Credentials: TRUE.",
		LabelID: "extra-headers-label",
		RowsID:  "extra-header-rows",
		AddID:   "add-extra-header",
	}
)

// capitalize upper-cases the first letter of an ASCII phrase: "header name"
// → "Header name".
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// sortedHeaders lists headers by name, so the form is rendered the same way
// every time.
func sortedHeaders(h map[string]string) []headerRow {
	out := make([]headerRow, 0, len(h))
	for n, v := range h {
		out = append(out, headerRow{n, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// shortID is the first few characters of a session id, enough to tell two
// sessions apart on a projector.
func shortID(id string) string {
	if len(id) <= 6 {
		return id
	}
	return id[:6] + "…"
}

// hostPort drops the scheme from an origin: "http://127.0.0.1:8081" →
// "127.0.0.1:8081".
func hostPort(origin string) string {
	for _, p := range []string{"http://", "https://"} {
		if len(origin) > len(p) && origin[:len(p)] == p {
			return origin[len(p):]
		}
	}
	return origin
}

// roleHelp says, in a sentence, what an origin is for in the lab.
func roleHelp(role string) string {
	switch role {
	case "app":
		return "The frontend. The lab's requests usually start here: a hidden runner page on this origin calls fetch(), so the browser sends Origin: this origin."
	case "api":
		return "The backend. It answers with exactly the CORS headers you choose in the lab's “What the server sends” panel. Each session has its own paths here, under /{session id}/."
	case "s3":
		return "A fake Amazon S3. It stores objects and answers with S3's own CORS behaviour."
	case "evil":
		return "The attacker. A page on this origin tries to read the api's responses; a careful CORS policy stops it, a sloppy one does not."
	default:
		return "One of corslab's virtual origins."
	}
}

// Option lists for the scenario form. Each is value → what the learner reads.
type option struct{ Value, Label string }

var (
	fromOptions = []option{
		{"app", "app — a page on the app origin"},
		{"sandbox", "sandboxed iframe → Origin: null"},
		{"sandbox-same-origin", "sandboxed iframe, allow-same-origin → app's origin"},
		{"data", "data: URL frame → Origin: null"},
		{"srcdoc", "<iframe srcdoc> → app's origin"},
		{"evil", "evil — the attacker's page"},
		{"lookalike", "look-alike origin — the attacker's"},
		{"api", "api itself → same-origin"},
	}
	targetOptions = []option{
		{"api", "api — the user API"},
		{"s3", "s3 — an object in the session's bucket"},
		{"yours", "yours — your own server, through corslab"},
	}
	methodOptions      = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	credentialsOptions = []option{
		{"omit", "omit — never send cookies"},
		{"same-origin", "same-origin — the default"},
		{"include", "include — send cookies cross-origin too"},
	}
	modeOptions = []option{
		{"cors", "cors — the default"},
		{"no-cors", "no-cors — opaque response"},
		{"same-origin", "same-origin — refuse cross-origin"},
	}
	redirectOptions = []option{
		{"follow", "follow — the default"},
		{"error", "error — reject on a redirect"},
		{"manual", "manual — opaqueredirect"},
	}
	allowOriginOptions = []option{
		{"", "none — send no header"},
		{"*", "* — any origin"},
		{"echo", "echo the request's Origin"},
		{"allowlist", "allowlist — echo if it matches"},
		{"null", "null — the string “null”"},
		{"custom", "custom value…"},
	}
	// stageOptions are where a learner may predict a run fails; the values
	// are the engine's stages (verdict.stage).
	stageOptions = []option{
		{"", "where does it fail?"},
		{"preflight", "at the preflight"},
		{"response", "at the response"},
		{"redirect", "at a redirect"},
		{"request", "fetch() throws first"},
	}
	matchOptions = []option{
		{"exact", "exact"},
		{"suffix", "suffix (ends with)"},
		{"prefix", "prefix (starts with)"},
		{"regex", "regex (unanchored)"},
	}
)

// setupOption is one choice of Scenario.Setup. Hint says in plain words
// where things live; FromNote is shown under "From" when the setup fixes
// the page's origin (scenario.SetupPage), and lab.js reads both from the
// option's data-* attributes when the learner changes the setup.
type setupOption struct{ Value, Label, Hint, FromNote string }

var setupOptions = []setupOption{
	{
		"three-origins", "three origins — page, api and bucket apart",
		"The page runs on the origin chosen under “From”; the api and the files (s3) each live on an origin of their own.",
		"",
	},
	{
		"two-origins", "two origins — the api serves the page",
		"The api origin serves the page itself, so calls to the api are same-origin; only the bucket (s3) is another origin.",
		"Set by the setup: the api origin serves the page.",
	},
	{
		"one-origin", "one origin — a CDN in front of both",
		"The app origin serves the page and proxies /api/* to the api and /files/* to the bucket, like a CDN: the browser sees one origin and needs no CORS.",
		"Set by the setup: the app origin serves the page and proxies the rest.",
	},
}

// setupChoice is the option for a setup (the first one for an unknown value:
// the server never renders one, it refuses such a scenario).
func setupChoice(setup string) setupOption {
	for _, o := range setupOptions {
		if o.Value == setup {
			return o
		}
	}
	return setupOptions[0]
}

// setupPage is the role whose page a setup runs, or "" when request.from
// chooses: the scenario package's rule, handed to lab.js as data-page.
func setupPage(setup string) string { return scenario.SetupPage(setup) }

// pathPreset is one suggestion for request.path, in the path box's list.
type pathPreset struct{ Path, Label string }

// pathPresets are the paths worth trying on each target: the api's routes
// (README "The origins") and the bucket's sample objects.
var pathPresets = map[string][]pathPreset{
	"api": {
		{"/users", "GET: the users, count in X-Total-Count"},
		{"/users/1", "GET, PUT, PATCH or DELETE one user"},
		{"/login", "POST: sets the login cookie"},
		{"/me", "GET: who the login cookie says you are"},
		{"/files/hello.txt", "GET: a presigned URL for hello.txt on s3"},
		{"/files/data.json", "GET: a presigned URL for data.json on s3"},
		{"/uploads/new.txt", "POST: a presigned PUT URL for new.txt"},
		{"/redirect/307/s3/hello.txt", "any method: a 307 to hello.txt on s3"},
	},
	"s3": {
		{"/hello.txt", "text/plain"},
		{"/data.json", "application/json"},
		{"/corslab.png", "image/png"},
	},
}

// pathListID is the id of the <datalist> of path presets for a target.
func pathListID(target string) string { return "path-presets-" + target }

// signedRedirectOptions are the ways GET /files/{key} hands out its
// presigned URL (api.redirect).
var signedRedirectOptions = []option{
	{"0", "200 — the URL in the body (two-phase)"},
	{"301", "301 Moved Permanently"},
	{"302", "302 Found"},
	{"303", "303 See Other — the default"},
	{"307", "307 Temporary Redirect"},
	{"308", "308 Permanent Redirect"},
}

// corsPresets are the bucket CORS presets (bucket.js knows what each one
// sets, by its key).
var corsPresets = []struct{ Key, Label, Title string }{
	{"none", "None", "No CORS configuration at all (DeleteBucketCors)"},
	{"any", "* (GET, HEAD)", "One rule: any origin may GET and HEAD"},
	{"null", "null (GET)", "One rule: the origin “null” (a sandboxed iframe, a file:// page) may GET"},
	{"page", "page origin (GET)", "One rule: the page's origin may GET"},
}

// roleURL is the origin of a role in d, e.g. "http://127.0.0.1:8081", or
// "" if d has none.
func roleURL(d LabData, role string) string {
	for _, o := range d.Origins {
		if o.Role == role {
			return o.URL
		}
	}
	return ""
}

// isKnownMethod reports whether the method select has an option for m.
func isKnownMethod(m string) bool {
	for _, k := range methodOptions {
		if k == m {
			return true
		}
	}
	return false
}

// allowOriginChoice is the select value for an AllowOrigin setting: one of the
// named choices, or "custom" for anything written by hand.
func allowOriginChoice(v string) string {
	for _, o := range allowOriginOptions {
		if o.Value == v && v != "custom" {
			return v
		}
	}
	return "custom"
}

func allowOriginCustom(v string) string {
	if allowOriginChoice(v) == "custom" {
		return v
	}
	return ""
}

func maxAgeValue(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// allowlistText is the allowlist as the textarea shows it: one entry a line.
func allowlistText(list []string) string { return strings.Join(list, "\n") }

// statusText is an HTTP status code as a string, for number inputs.
func statusText(n int) string { return strconv.Itoa(n) }

// Element ids for a scenario field path such as "api.maxAge".
func fieldID(path string) string { return "f-" + strings.ReplaceAll(path, ".", "-") }
func hintID(path string) string  { return "hint-" + strings.ReplaceAll(path, ".", "-") }
func errorID(path string) string { return "err-" + strings.ReplaceAll(path, ".", "-") }

// describedBy is the aria-describedby of a field's control: its error
// message, and its hint when it has one ("hint").
func describedBy(path, hint string) string {
	if hint != "" {
		return errorID(path) + " " + hintID(path)
	}
	return errorID(path)
}

// otherMethod is the text of the "other method" box: the method when the
// select has no option for it.
func otherMethod(m string) string {
	if isKnownMethod(m) {
		return ""
	}
	return m
}

// originHost is an origin without its port: "http://127.0.0.1:8080" →
// "http://127.0.0.1". Every corslab origin shares it; only ports differ.
func originHost(origin string) string {
	if i := strings.LastIndex(origin, ":"); i > len("https://") {
		return origin[:i]
	}
	return origin
}

// originPort is how the header names an origin: just ":8081" when it has
// the same scheme and host as the lab, else the whole origin.
func originPort(origin, uiOrigin string) string {
	host := originHost(uiOrigin)
	if strings.HasPrefix(origin, host+":") {
		return origin[len(host):]
	}
	return origin
}

// formGroup is one fieldset of the scenario form: its id, the target of
// the jump strip's link (lab.templ's groupNav), its legend, and the word
// the strip names it by (the legend is the link's tooltip).
type formGroup struct{ ID, Legend, Short string }

var (
	groupSetup   = formGroup{"group-setup", "Where things live", "Setup"}
	groupRequest = formGroup{"group-request", "What the page asks for", "Request"}
	groupAPI     = formGroup{"group-api", "What the server sends", "Server"}
	groupBucket  = formGroup{"bucket-fields", "The bucket's CORS rules", "Bucket"}
)

// formGroups are the form's fieldsets, in the order the form shows them.
var formGroups = []formGroup{groupSetup, groupRequest, groupAPI, groupBucket}

// yoursHint says what the yours origin does with a request, and plainly
// what forwarding changes (README "Check your own API").
func yoursHint(d LabData) string {
	at := "The yours origin"
	if u := roleURL(d, "yours"); u != "" {
		at += " (" + u + ")"
	}
	return at + " sends each request, path and query added to this URL, to your server, and passes its answer back as it came; both are in the log. " +
		"What forwarding changes: your server sees its own Host, not corslab's; the browser's cookies here are corslab's, so none are forwarded; " +
		"hop-by-hop headers (Connection, Keep-Alive…) are dropped and Via: 1.1 corslab-yours is added. " +
		"A redirect to an absolute URL takes the browser to your server itself, which corslab does not see."
}

// headerOrigins are the origins the lab's header links to: all of them in
// the lab, and on a lesson's page all but yours, which no lesson uses (and
// for which the lesson's header has no room at 1366×768).
func headerOrigins(d LabData) []Origin {
	if d.Lesson == nil {
		return d.Origins
	}
	var list []Origin
	for _, o := range d.Origins {
		if o.Role != "yours" {
			list = append(list, o)
		}
	}
	return list
}
