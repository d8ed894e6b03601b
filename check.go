package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/probe"
)

// Exit statuses of corslab check, for a project's CI.
const (
	exitRead    = 0 // JS would read the response
	exitBlocked = 1 // the browser would block it
	exitUsage   = 2 // a usage or network error: no verdict
)

// exitError carries the process's exit status; its message, if any, is
// for stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return commandUsageError("check", format, args...)
}

// commandUsageError is a usage error of `corslab cmd`.
func commandUsageError(cmd, format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format+" (see corslab "+cmd+" --help)", args...)}
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runCheck is `corslab check URL --origin O …`: it sends what the chosen
// browser would for fetch(URL) from a page of origin O, prints the
// exchanges and the engine's explanation, and returns an *exitError
// unless JS would read the response.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("corslab check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("origin", "", "the `origin` of the page that calls fetch(), e.g. http://localhost:5173 (required)")
	method := fs.String("method", "GET", "the `method` passed to fetch()")
	var headers, cookies, allow listFlag
	fs.Var(&headers, "header", "a request header the page sets, as `'Name: value'` (repeatable)")
	credentials := fs.String("credentials", "same-origin", "fetch()'s credentials `mode`: omit, same-origin or include")
	browser := fs.String("browser", "chromium", "whose rules to follow: chromium, firefox or webkit")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	body := fs.String("body", "", "a string `body` the page sends (not with GET or HEAD)")
	fs.Var(&cookies, "cookie", "a cookie to send where the browser would send its own, as `'name=value'` (repeatable); corslab has none of your browser's")
	fs.Var(&allow, "allow-redirect", "a `host` a redirect may lead to besides the URL's own (repeatable); the probe sends nothing to any other")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "how `long` to wait for each request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: corslab check URL --origin O [--method M] [--header 'N: v']… [--credentials include] [--browser chromium|firefox|webkit] [--json]

Sends URL exactly what the browser would send for
  fetch(URL, {method, headers, credentials, mode: "cors"})
from a page of origin O: the preflight, if the browser would make one, then
the request, following redirects as fetch() does. Prints each raw exchange,
the verdict and the step-by-step explanation.

Exit status: 0 when JS would read the response, 1 when the browser would
block it, 2 on a usage or network error.

Flags:
`)
		fs.PrintDefaults()
	}
	urls, set, err := parseURLsAndFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(urls) == 0:
		return usageError("URL: which URL to check? e.g. corslab check http://localhost:3000/api/items --origin http://localhost:5173")
	case len(urls) > 1:
		return usageError("URL: one URL at a time, got %q", urls)
	case !set["origin"]:
		return usageError("--origin: is required: the origin of the page that calls fetch(), e.g. http://localhost:5173")
	}
	b := engineNamed(*browser)
	if b == nil {
		return usageError("--browser: must be chromium, firefox or webkit, got %q", *browser)
	}
	cfg := probe.Config{
		URL: urls[0], Origin: *origin, Method: *method, Credentials: *credentials,
		Browser: b, AllowHosts: allow, Timeout: *timeout,
	}
	if *timeout <= 0 {
		return usageError("--timeout: must be more than 0, got %s", *timeout)
	}
	if cfg.Headers, err = parseHeaders("check", headers); err != nil {
		return err
	}
	for _, c := range cookies {
		name, _, ok := strings.Cut(c, "=")
		if !ok || !cors.IsToken(name) || strings.ContainsAny(c, ";\r\n") {
			return usageError("--cookie: must be one 'name=value' (repeat the flag for more), got %q", c)
		}
	}
	cfg.Cookie = strings.Join(cookies, "; ")
	if set["body"] {
		cfg.Body = []byte(*body)
	}

	res, err := probe.Run(ctx, cfg)
	var refused *probe.RedirectRefusedError
	switch {
	case res == nil && err != nil:
		return &exitError{exitUsage, flagErrors(err)}
	case errors.As(err, &refused):
		err = fmt.Errorf("%w; to follow it, add --allow-redirect %s", err, refused.Host)
	case err == nil && cfg.Cookie == "" && slices.ContainsFunc(res.Exchanges, func(ex probe.Exchange) bool { return ex.Credentials }):
		res.Notes = append(res.Notes, "To send a cookie where the browser would send its own, add --cookie 'name=value'.")
	}
	if *asJSON {
		if werr := writeJSON(stdout, res, err); werr != nil {
			return &exitError{exitUsage, werr}
		}
	} else {
		writeText(stdout, res, err)
	}
	switch {
	case err != nil:
		return &exitError{exitUsage, fmt.Errorf("check: %w", err)}
	case !res.Verdict.OK:
		return &exitError{exitBlocked, nil}
	}
	return nil
}

// parseURLsAndFlags parses a sub-command's flags and returns its
// arguments, the URLs, and the names of the flags set. The URL may come
// before the flags, after them or between them.
func parseURLsAndFlags(fs *flag.FlagSet, args []string) (urls []string, set map[string]bool, err error) {
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, err
			}
			return nil, nil, &exitError{exitUsage, err}
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return urls, set, nil
}

// parseHeaders cuts each --header 'Name: value' at its colon.
func parseHeaders(cmd string, headers []string) ([][2]string, error) {
	var out [][2]string
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, commandUsageError(cmd, "--header: must be 'Name: value', got %q", h)
		}
		out = append(out, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return out, nil
}

// engineNamed is the browser table of that name, nil if none.
func engineNamed(name string) *cors.Browser {
	for _, b := range cors.Engines {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// flagErrors words the probe's config errors with the flags that set
// each field: every problem, one a line.
func flagErrors(err error) error { return commandFlagErrors("check", err) }

// commandFlagErrors is flagErrors for `corslab cmd`.
func commandFlagErrors(cmd string, err error) error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var out []string
	for _, e := range list {
		var fe *probe.FieldError
		if !errors.As(e, &fe) {
			out = append(out, e.Error())
			continue
		}
		name := "--" + fe.Field
		switch fe.Field {
		case "url":
			name = "URL"
		case "allow-host":
			name = "--allow-redirect"
		}
		out = append(out, name+": "+fe.Problem)
	}
	return errors.New(strings.Join(out, "\n") + " (see corslab " + cmd + " --help)")
}

// reason is the step that decided the verdict: the last that failed, or
// when JS reads the response, the last of the response stage, which says
// so.
func reason(v *cors.Verdict) cors.Step {
	for i := len(v.Steps) - 1; i >= 0; i-- {
		if st := v.Steps[i]; !st.OK || v.OK && st.Stage == cors.StageResponse {
			return st
		}
	}
	return cors.Step{}
}

// bodyExcerpt is how much of a body the text output shows.
const bodyExcerpt = 2 << 10

// writeText prints the exchanges, the verdict and the steps for a person.
func writeText(w io.Writer, res *probe.Result, runErr error) {
	r := res.Request
	fmt.Fprintf(w, "corslab check: fetch(%q, {method: %q, credentials: %q}) from a page of %s, as %s\n", r.URL, r.Method, r.Credentials, r.Origin, res.Browser.Title)
	for _, ex := range res.Exchanges {
		kind := "request"
		if ex.Preflight {
			kind = "preflight, sent by the browser on its own"
		}
		fmt.Fprintf(w, "\n── %d · %s · %s %s (%s)\n\n", ex.Seq, kind, ex.Method, ex.URL, ex.Duration.Round(time.Millisecond))
		writeRaw(w, ex.RequestHead)
		writeBody(w, ex.RequestBody, false)
		switch {
		case ex.Err != nil:
			fmt.Fprintf(w, "[no response: %v]\n", ex.Err)
			continue
		case ex.ResponseHead == "":
			fmt.Fprintf(w, "[no response head recorded]\n")
		}
		fmt.Fprintln(w)
		writeRaw(w, ex.ResponseHead)
		writeBody(w, ex.ResponseBody, ex.BodyTruncated)
		if ex.BodyErr != "" {
			fmt.Fprintf(w, "[the body stopped early: %s]\n", ex.BodyErr)
		}
	}
	fmt.Fprintln(w)
	if runErr != nil {
		fmt.Fprintf(w, "No verdict: %v\n", runErr)
		return
	}
	v := res.Verdict
	why := reason(v)
	if v.OK {
		fmt.Fprintf(w, "Verdict: OK, JS reads the response.\n")
	} else {
		at := ""
		if v.FailedSeq != 0 {
			at = fmt.Sprintf(", exchange %d", v.FailedSeq)
		}
		fmt.Fprintf(w, "Verdict: BLOCKED at the %s stage%s: JS does not get the response.\n", v.Stage, at)
		fmt.Fprintf(w, "Reason: %s\n  %s\n", why.Text, why.Spec)
	}
	fmt.Fprintf(w, "\nStep by step:\n")
	for _, st := range v.Steps {
		mark := "✓"
		if !st.OK {
			mark = "✗"
		}
		seq := ""
		if st.Seq != 0 {
			seq = fmt.Sprintf(" #%d", st.Seq)
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n      %s\n", mark, st.Stage, seq, st.Text, st.Spec)
		if st.Note != "" {
			fmt.Fprintf(w, "      %s\n", st.Note)
		}
		if st.Unexpected {
			fmt.Fprintf(w, "      (the traffic differed from what the model predicted here)\n")
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
	fmt.Fprintf(w, "\n%s.\n", probe.Label(res.Browser))
}

// writeRaw prints a raw head with LF line ends, without its empty line.
func writeRaw(w io.Writer, head string) { writeIndented(w, "", head) }

// writeIndented is writeRaw with each line indented.
func writeIndented(w io.Writer, indent, head string) {
	head = strings.TrimRight(strings.ReplaceAll(head, "\r\n", "\n"), "\n")
	if head != "" {
		fmt.Fprintln(w, indent+strings.ReplaceAll(head, "\n", "\n"+indent))
	}
}

// writeBody prints the start of a body, or says what it is.
func writeBody(w io.Writer, body []byte, truncated bool) {
	if len(body) == 0 {
		return
	}
	fmt.Fprintln(w)
	if !utf8.Valid(body[:max(0, len(body)-utf8.UTFMax)]) || bytes.IndexByte(body, 0) >= 0 {
		fmt.Fprintf(w, "[%d bytes of binary data]\n", len(body))
		return
	}
	shown := body
	if len(shown) > bodyExcerpt {
		shown = shown[:bodyExcerpt]
	}
	fmt.Fprintln(w, strings.TrimRight(strings.ToValidUTF8(string(shown), ""), "\n"))
	if len(shown) < len(body) || truncated {
		more := "more"
		if truncated {
			more = "more, not read"
		}
		fmt.Fprintf(w, "[… %d bytes shown, %s]\n", len(shown), more)
	}
}

// checkJSON is the --json output: one object.
type checkJSON struct {
	Label     string         `json:"label"`
	Browser   string         `json:"browser"`
	Request   requestJSON    `json:"request"`
	Exchanges []exchangeJSON `json:"exchanges"`
	// Verdict is null when the check could not finish: Error says why.
	Verdict *verdictJSON `json:"verdict"`
	Steps   []cors.Step  `json:"steps"`
	Notes   []string     `json:"notes"`
	Error   string       `json:"error,omitempty"`
}

type requestJSON struct {
	URL         string      `json:"url"`
	Origin      string      `json:"origin"`
	Method      string      `json:"method"`
	Headers     [][2]string `json:"headers"`
	Body        bool        `json:"body"`
	Credentials string      `json:"credentials"`
}

type exchangeJSON struct {
	Seq            uint64  `json:"seq"`
	Preflight      bool    `json:"preflight"`
	Method         string  `json:"method"`
	URL            string  `json:"url"`
	Status         int     `json:"status"`
	DurationMs     float64 `json:"durationMs"`
	RawRequest     string  `json:"rawRequest"` // the head, CRLFs and all
	RequestBody    string  `json:"requestBody"`
	RawResponse    string  `json:"rawResponse"`
	ResponseBody   string  `json:"responseBody"` // the first 64 KiB
	BodyTruncated  bool    `json:"bodyTruncated"`
	CookieSent     bool    `json:"cookieSent"`
	WouldSendCreds bool    `json:"browserSendsCookies"`
	Error          string  `json:"error,omitempty"`
}

type verdictJSON struct {
	OK        bool     `json:"ok"`
	Stage     string   `json:"stage"`
	FailedSeq uint64   `json:"failedSeq"`
	Reason    string   `json:"reason"`
	Spec      string   `json:"spec"`
	Exposed   []string `json:"exposed"`
}

func writeJSON(w io.Writer, res *probe.Result, runErr error) error {
	r := res.Request
	out := checkJSON{
		Label: probe.Label(res.Browser), Browser: res.Browser.Name,
		Request:   requestJSON{URL: r.URL, Origin: r.Origin, Method: r.Method, Headers: r.Headers, Body: r.Body, Credentials: r.Credentials},
		Exchanges: []exchangeJSON{}, Steps: []cors.Step{}, Notes: res.Notes,
	}
	if out.Request.Headers == nil {
		out.Request.Headers = [][2]string{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, ex := range res.Exchanges {
		j := exchangeJSON{
			Seq: ex.Seq, Preflight: ex.Preflight, Method: ex.Method, URL: ex.URL, Status: ex.Status,
			DurationMs: float64(ex.Duration.Microseconds()) / 1000,
			RawRequest: ex.RequestHead, RequestBody: string(ex.RequestBody), RawResponse: ex.ResponseHead,
			ResponseBody: string(ex.ResponseBody), BodyTruncated: ex.BodyTruncated,
			CookieSent: ex.Cookie, WouldSendCreds: ex.Credentials,
		}
		if ex.Err != nil {
			j.Error = ex.Err.Error()
		}
		out.Exchanges = append(out.Exchanges, j)
	}
	if runErr != nil {
		out.Error = runErr.Error()
	} else {
		v := res.Verdict
		why := reason(v)
		out.Verdict = &verdictJSON{OK: v.OK, Stage: v.Stage, FailedSeq: v.FailedSeq, Reason: why.Text, Spec: why.Spec, Exposed: v.Exposed}
		out.Steps = v.Steps
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
