package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/corslab/corslab/playground/need"
)

// runNeed is `corslab need`: from what a page does, the narrowest CORS
// policy, why each header, and the configuration for each server corslab
// proves (playground/need).
func runNeed(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("corslab need", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var origins, headers, expose listFlag
	fs.Var(&origins, "origin", "the `origin` of a page that makes the request, e.g. https://app.example.com (repeatable; at least one)")
	method := fs.String("method", "GET", "the `method` passed to fetch()")
	fs.Var(&headers, "header", "a request header the page sets, as `'Name'` or 'Name: value' (repeatable); the value matters for Content-Type, Accept…")
	credentials := fs.Bool("credentials", false, "the page sends credentials (fetch's credentials: \"include\")")
	fs.Var(&expose, "expose", "a response `header` JavaScript must read (repeatable)")
	s3Redirect := fs.Bool("s3-redirect", false, "the server answers with a redirect to a presigned S3 URL, which the browser follows")
	server := fs.String("server", "all", "whose configuration to print: "+strings.Join(need.Servers, ", ")+" or all")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: corslab need --origin O [--origin O2]… [--method M] [--header N]… [--credentials] [--expose N]… [--s3-redirect] [--server S|all] [--json]

Prints the narrowest CORS policy that lets pages of these origins make this
request and read its answer, why each header is needed, and ready-to-paste
configuration for corslab's api, an S3 bucket, nginx, Express with the cors
package, and Go's rs/cors and jub0bs/cors. corslab's tests run each of these
servers with such a configuration in a real browser.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{exitUsage, err}
	}
	switch {
	case fs.NArg() > 0:
		return commandUsageError("need", "unexpected argument %q", fs.Arg(0))
	case *server != "all" && !slices.Contains(need.Servers, *server):
		return commandUsageError("need", "--server: must be one of %s or all, got %q", strings.Join(need.Servers, ", "), *server)
	}
	p, err := need.Solve(need.Need{
		Origins: origins, Method: *method, Headers: headers, Credentials: *credentials,
		Expose: expose, SignedS3Redirect: *s3Redirect,
	})
	if err != nil {
		// Name the flags, not the fields.
		msg := err.Error()
		for field, flag := range map[string]string{"origins:": "--origin:", "method:": "--method:", "headers:": "--header:", "expose:": "--expose:"} {
			msg = strings.ReplaceAll("\n"+msg, "\n"+field, "\n"+flag)[1:]
		}
		return &exitError{exitUsage, fmt.Errorf("%s (see corslab need --help)", msg)}
	}
	snippets := need.Snippets(p)
	if *server != "all" {
		snippets = need.SnippetsFor(p, *server)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Policy   *need.Policy   `json:"policy"`
			Snippets []need.Snippet `json:"snippets"`
		}{p, snippets})
	}
	printNeed(stdout, p, snippets)
	return nil
}

// printNeed writes the policy, its reasons and the snippets as text.
func printNeed(w io.Writer, p *need.Policy, snippets []need.Snippet) {
	pre := "no preflight"
	if p.Preflight {
		pre = "preflight first"
	}
	fmt.Fprintf(w, "The narrowest policy for %s from %s (%s):\n\n", p.Method, strings.Join(p.Origins, ", "), pre)
	for _, r := range p.Why {
		fmt.Fprintf(w, "  %s: %s\n      %s\n\n", r.Header, r.Value, r.Why)
	}
	if p.Bucket != nil {
		fmt.Fprintf(w, "  At the S3 bucket: allow %s from %s\n      %s\n\n", strings.Join(p.Bucket.Methods, ", "), strings.Join(p.Bucket.Origins, ", "), p.Bucket.Why)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, s := range snippets {
		fmt.Fprintf(w, "--- %s\n%s\n", s.Title, strings.TrimRight(s.Text, "\n"))
		fmt.Fprintln(w)
	}
}
