package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// This file is the learner's browser: each sequence sends what Chromium's
// fetch() sends for the lab's request, checks CORS as it does (just enough
// to decide whether to go on), and posts the run as the lab page does.

// sequence runs the learner's next request sequence, cycling through a
// simple GET, a preflighted PUT and a signed-URL redirect; every tenth
// run first changes the scenario. Then it posts the run.
func (l *learner) sequence(ctx context.Context) {
	l.runs++
	if l.runs%10 == 0 {
		l.changeScenario(ctx)
	}
	// The page's since: the newest exchange it had seen when Run was pressed.
	since := l.lastSeq.Load()
	var run runDoc
	switch l.runs % 3 {
	case 1:
		run = l.simpleGet(ctx)
	case 2:
		run = l.preflightedPut(ctx)
	default:
		run = l.signedURL(ctx)
	}
	if ctx.Err() != nil {
		return
	}
	run.Since, run.UserAgent = since, userAgent
	l.postRun(ctx, &run)
	l.env.stats.sequences.Add(1)
}

// simpleGet is fetch(api + "/users") from the app's page: no preflight.
func (l *learner) simpleGet(ctx context.Context) runDoc {
	start := time.Now()
	u := l.api + "/users"
	resp, body, err := l.send(ctx, "GET /users", l.fetchRequest("GET", u, l.app, ""), http.StatusOK)
	return runDoc{
		Request: fetchRequest("GET", "/users", nil, ""),
		URL:     u,
		Browser: outcome(resp, body, err, l.app, start),
	}
}

// userJSON replaces user 1 with itself: the store stays the same size.
const userJSON = `{"username":"ada","name":"Ada Lovelace"}`

// preflightedPut is fetch(api + "/users/1", {method: "PUT", headers:
// {"X-User-Id": "11"}, body}): a PUT with a custom header, so the browser
// first sends a preflight, and the PUT only if the preflight allows it.
func (l *learner) preflightedPut(ctx context.Context) runDoc {
	start := time.Now()
	u := l.api + "/users/1"
	run := runDoc{
		Request: fetchRequest("PUT", "/users/1", map[string]string{"X-User-Id": "11"}, userJSON),
		URL:     u,
	}
	pre := l.fetchRequest("OPTIONS", u, l.app, "")
	pre.Header.Del("Accept-Language") // a preflight carries no more than it needs
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "x-user-id")
	resp, _, err := l.send(ctx, "OPTIONS /users/1", pre, http.StatusNoContent)
	if err != nil || !preflightAllows(resp, l.app, "PUT", "x-user-id") {
		run.Browser = failed(start)
		return run
	}
	put := l.fetchRequest("PUT", u, l.app, userJSON)
	put.Header.Set("Content-Type", "text/plain;charset=UTF-8") // fetch's type for a string body
	put.Header.Set("X-User-Id", "11")
	resp, body, err := l.send(ctx, "PUT /users/1", put, http.StatusOK)
	run.Browser = outcome(resp, body, err, l.app, start)
	return run
}

// signedURL is fetch(api + "/files/hello.txt"): the api answers 303 with
// a signed URL of the session's bucket on the s3 origin, and the browser
// follows it. A redirect to another origin taints the request's origin,
// so the hop to s3 carries Origin: null.
func (l *learner) signedURL(ctx context.Context) runDoc {
	start := time.Now()
	u := l.api + "/files/hello.txt"
	run := runDoc{Request: fetchRequest("GET", "/files/hello.txt", nil, ""), URL: u}
	resp, _, err := l.send(ctx, "GET /files/hello.txt", l.fetchRequest("GET", u, l.app, ""), http.StatusSeeOther)
	if err != nil || !corsAllows(resp.Header, l.app) {
		run.Browser = failed(start)
		return run
	}
	loc, err := resp.Location()
	if err != nil {
		run.Browser = failed(start)
		return run
	}
	hop := l.fetchRequest("GET", loc.String(), "null", "")
	hop.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, body, err := l.send(ctx, "GET s3 signed URL", hop, http.StatusOK)
	run.Browser = outcome(resp, body, err, "null", start)
	run.Browser.Redirected = run.Browser.OK
	return run
}

// changeScenario toggles the second allowed header, as a learner
// changing a setting does: PUT /api/sessions/{id}/scenario.
func (l *learner) changeScenario(ctx context.Context) {
	l.extraAllow = !l.extraAllow
	if _, err := l.callUI(ctx, "PUT /scenario", "PUT", "/api/sessions/"+l.id+"/scenario", learnerScenario(l.extraAllow), http.StatusOK, nil); err == nil {
		l.env.stats.scenarioPuts.Add(1)
	}
}

// postRun records the run, as the lab page does after its runner reports:
// the server explains it with its CORS engine and pushes a run frame. The
// answer says whether the engine agrees with what our "browser" decided: a
// check that the load is browser-like.
func (l *learner) postRun(ctx context.Context, run *runDoc) {
	start := time.Now()
	body, err := json.Marshal(run)
	if err != nil {
		return
	}
	var answer struct {
		Verdict *struct {
			Agrees bool `json:"agrees"`
		} `json:"verdict"`
	}
	if _, err := l.callUI(ctx, "POST /runs", "POST", "/api/sessions/"+l.id+"/runs", body, http.StatusCreated, &answer); err == nil {
		s := l.env.stats
		s.runsPosted.Add(1)
		s.runPost.record(time.Since(start))
		if answer.Verdict != nil && !answer.Verdict.Agrees {
			s.disagreements.Add(1)
		}
	}
}

// fetchRequest is a request as Chromium's fetch() sends it from a page of
// the app origin (origin "null" on a hop after a cross-origin redirect).
func (l *learner) fetchRequest(method, url, origin, body string) *http.Request {
	var r io.Reader = http.NoBody
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r) // method and URL are ours: no error
	h := req.Header
	h.Set("User-Agent", userAgent)
	h.Set("Accept", "*/*")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Origin", origin)
	h.Set("Sec-Fetch-Site", "same-site") // the app and the api differ only by port
	h.Set("Sec-Fetch-Mode", "cors")
	h.Set("Sec-Fetch-Dest", "empty")
	h.Set("Referer", l.app+"/")
	return req
}

// send sends one request to a virtual origin and reads the whole answer,
// so that the connection is reused. It counts and times the request, and
// records a transport error or a status other than want under `what`.
func (l *learner) send(ctx context.Context, what string, req *http.Request, want int) (*http.Response, []byte, error) {
	s := l.env.stats
	start := time.Now()
	s.requests.Add(1)
	resp, err := l.client.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() == nil {
			s.transportError(what, err)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	// The server captured this request, unless a rate limiter turned it
	// away first (429): an exchange frame is on its way.
	if resp.StatusCode != http.StatusTooManyRequests {
		l.expected.Add(1)
	}
	if resp.StatusCode != want {
		s.unexpectedStatus(what, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if ctx.Err() == nil {
			s.transportError(what, err)
		}
		return nil, nil, err
	}
	s.fetch.record(time.Since(start))
	return resp, body, nil
}

// corsAllows is the browser's CORS check of a response to a request
// without credentials from origin.
func corsAllows(h http.Header, origin string) bool {
	acao := h.Get("Access-Control-Allow-Origin")
	return acao == "*" || acao == origin
}

// preflightAllows is the browser's check of a preflight's answer: an ok
// status, the origin allowed, and the method and header listed.
func preflightAllows(resp *http.Response, origin, method, header string) bool {
	listed := func(name, want string) bool {
		for v := range strings.SplitSeq(resp.Header.Get(name), ",") {
			if v = strings.TrimSpace(v); v == "*" || strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300 && corsAllows(resp.Header, origin) &&
		listed("Access-Control-Allow-Methods", method) && listed("Access-Control-Allow-Headers", header)
}

// runDoc is the body of POST /api/sessions/{id}/runs, as the lab posts it.
type runDoc struct {
	Request   request `json:"request"`
	URL       string  `json:"url"`
	Since     uint64  `json:"since"`
	Browser   browser `json:"browser"`
	UserAgent string  `json:"userAgent"`
}

// request is the scenario's request: what the page asked its browser to
// fetch.
type request struct {
	From          string            `json:"from"`
	LookalikeHost string            `json:"lookalikeHost"`
	Target        string            `json:"target"`
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	Credentials   string            `json:"credentials"`
	Mode          string            `json:"mode"`
	Redirect      string            `json:"redirect"`
}

func fetchRequest(method, path string, headers map[string]string, body string) request {
	if headers == nil {
		headers = map[string]string{}
	}
	return request{
		From: "app", LookalikeHost: "app-corslab.localhost", Target: "api",
		Method: method, Path: path, Headers: headers, Body: body,
		Credentials: "same-origin", Mode: "cors", Redirect: "follow",
	}
}

// browser is what the runner reports JS saw.
type browser struct {
	OK         bool        `json:"ok"`
	Status     int         `json:"status"`
	Error      string      `json:"error"`
	Type       string      `json:"type"`
	Redirected bool        `json:"redirected"`
	URL        string      `json:"url"`
	Headers    [][2]string `json:"headers"`
	Body       string      `json:"body"`
	DurationMs float64     `json:"durationMs"`
}

// failed is what JS sees when fetch() rejects: a TypeError, nothing more.
func failed(start time.Time) browser {
	return browser{Error: "TypeError: Failed to fetch", Type: "error", Headers: [][2]string{}, DurationMs: ms(time.Since(start))}
}

// outcome is what JS sees of the final response: everything if the CORS
// check passes (the headers it may read: the safelisted ones we have), a
// TypeError otherwise.
func outcome(resp *http.Response, body []byte, err error, origin string, start time.Time) browser {
	if err != nil || !corsAllows(resp.Header, origin) {
		return failed(start)
	}
	b := browser{
		OK: true, Status: resp.StatusCode, Type: "cors", URL: resp.Request.URL.String(),
		Headers: [][2]string{}, DurationMs: ms(time.Since(start)),
	}
	for _, name := range []string{"Cache-Control", "Content-Type"} {
		if v := resp.Header.Get(name); v != "" {
			b.Headers = append(b.Headers, [2]string{strings.ToLower(name), v})
		}
	}
	b.Body = string(body[:min(len(body), 16<<10)]) // the runner's excerpt
	return b
}
