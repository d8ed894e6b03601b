package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/corslab/corslab/playground/probe"
	"github.com/corslab/corslab/playground/scan"
)

// Exit statuses of corslab scan, for a project's CI; a usage or network
// error is exitUsage, as for check.
const (
	exitNoFindings = 0 // no finding of medium severity or above
	exitFindings   = 1 // a finding of medium severity or above
)

// runScan is `corslab scan URL --origin O …`: it looks for the CORS
// misconfigurations of URL (playground/scan), prints each finding with
// its evidence and fix, and returns an *exitError when one is of medium
// severity or above.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("corslab scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("origin", "", "the `origin` of your app's pages, the one the URL should allow, e.g. https://app.example.com (required)")
	method := fs.String("method", "GET", "the `method` your app passes to fetch(); the scan asks preflights about it and never sends it")
	var headers, allow listFlag
	fs.Var(&headers, "header", "a request header your app sets, as `'Name: value'` (repeatable); only its name goes out, in preflights")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Var(&allow, "allow-redirect", "a `host` a redirect may lead to besides the URL's own (repeatable); the scan sends nothing to any other")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "how `long` to wait for each request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: corslab scan URL --origin O [--method M] [--header 'N: v']… [--allow-redirect host]… [--json]

Looks for the CORS misconfigurations a security reviewer looks for: asks URL,
as a browser would, whether pages of other origins may read it (any origin,
null, look-alikes of O, O over http), with and without credentials, and
checks Vary, preflights and exposed headers. Prints each finding with its
severity, the raw exchange that shows it, and a fix.

It sends at most %d requests, only GET and preflights (OPTIONS), with no
cookie or token; --method and --header are asked about in preflights and
never sent.

Exit status: 0 when no finding is of medium severity or above, 1 when one
is, 2 on a usage or network error.

Flags:
`, scan.DefaultMaxRequests)
		fs.PrintDefaults()
	}
	urls, set, err := parseURLsAndFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(urls) == 0:
		return commandUsageError("scan", "URL: which URL to scan? e.g. corslab scan https://api.example.com/items --origin https://app.example.com")
	case len(urls) > 1:
		return commandUsageError("scan", "URL: one URL at a time, got %q", urls)
	case !set["origin"]:
		return commandUsageError("scan", "--origin: is required: the origin of your app's pages, e.g. https://app.example.com")
	case *timeout <= 0:
		return commandUsageError("scan", "--timeout: must be more than 0, got %s", *timeout)
	}
	cfg := scan.Config{URL: urls[0], Origin: *origin, Method: *method, AllowHosts: allow, Timeout: *timeout}
	if cfg.Headers, err = parseHeaders("scan", headers); err != nil {
		return err
	}

	rep, err := scan.Run(ctx, cfg)
	var refused *probe.RedirectRefusedError
	switch {
	case rep == nil && err != nil:
		return &exitError{exitUsage, commandFlagErrors("scan", err)}
	case errors.As(err, &refused):
		err = fmt.Errorf("%w; to follow it, add --allow-redirect %s", err, refused.Host)
	}
	if *asJSON {
		out := struct {
			*scan.Report
			Error string `json:"error,omitempty"`
		}{Report: rep}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(out); werr != nil {
			return &exitError{exitUsage, werr}
		}
	} else {
		writeScanText(stdout, rep, err)
	}
	switch {
	case err != nil:
		return &exitError{exitUsage, fmt.Errorf("scan: %w", err)}
	case rep.Worst().Rank() >= scan.Medium.Rank():
		return &exitError{exitFindings, nil}
	}
	return nil
}

// outcomeMarks mark each check's outcome in the text output.
var outcomeMarks = map[string]string{
	scan.Found: "✗", scan.Clean: "✓", scan.NotApplicable: "·", scan.Implied: "·", scan.NotRun: "?",
}

// writeScanText prints a scan's findings and checks for a person.
func writeScanText(w io.Writer, rep *scan.Report, runErr error) {
	app := rep.Method
	if len(rep.Headers) > 0 {
		app += " with " + strings.Join(rep.Headers, ", ")
	}
	fmt.Fprintf(w, "corslab scan: %s, called by pages of %s (%s); %d requests\n", rep.Target, rep.Origin, app, rep.Requests)
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "\n%s  %s: %s\n\n  %s\n\n  Fix: %s\n", strings.ToUpper(string(f.Severity)), f.ID, f.Title, f.Explanation, f.Fix)
		for _, ev := range f.Evidence {
			kind := "request"
			if ev.Preflight {
				kind = "preflight"
			}
			fmt.Fprintf(w, "\n  Evidence: exchange %d, a %s from a page of %s\n\n", ev.Seq, kind, ev.Origin)
			writeIndented(w, "    ", ev.RawRequest)
			fmt.Fprintln(w)
			writeIndented(w, "    ", ev.RawResponse)
			fmt.Fprintf(w, "    → %s\n", ev.Verdict)
		}
	}
	fmt.Fprintf(w, "\nChecked:\n")
	for _, c := range rep.Checks {
		origin := ""
		if c.Origin != "" {
			origin = " " + c.Origin
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n", outcomeMarks[c.Outcome], c.ID, origin, c.Detail)
	}
	fmt.Fprintln(w)
	if runErr != nil {
		fmt.Fprintf(w, "Stopped: %v\n", runErr)
	}
	count := map[scan.Severity]int{}
	for _, f := range rep.Findings {
		count[f.Severity]++
	}
	var parts []string
	for _, s := range []scan.Severity{scan.High, scan.Medium, scan.Low, scan.Info} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	switch len(rep.Findings) {
	case 0:
		fmt.Fprintf(w, "No findings.\n")
	case 1:
		fmt.Fprintf(w, "1 finding: %s.\n", strings.Join(parts, ", "))
	default:
		fmt.Fprintf(w, "%d findings: %s.\n", len(rep.Findings), strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "%s.\n", rep.Label)
}
