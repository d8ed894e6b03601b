package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"strings"
	"testing"

	jub0bs "github.com/jub0bs/cors"
	rs "github.com/rs/cors"
)

const appOrigin = "https://app.example.com"

func TestScan(t *testing.T) {
	tests := []struct {
		desc     string
		mw       func(t *testing.T) func(http.Handler) http.Handler
		args     []string // after the URL and --origin
		wantExit int
		wantOut  []string
	}{
		{
			desc: "rs/cors with an exact allowlist: no findings",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rs.New(rs.Options{AllowedOrigins: []string{appOrigin}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}).Handler
			},
			args:     []string{"--method", "PUT", "--header", "Content-Type: application/json"},
			wantExit: 0,
			wantOut:  []string{"(PUT with Content-Type)", "✓ reflects-any-origin https://corslab-scan.invalid: refused", "✓ missing-vary-origin", "No findings."},
		},
		{
			desc: "rs/cors reflecting every origin with credentials: a high finding",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rs.New(rs.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true}).Handler
			},
			wantExit: 1,
			wantOut: []string{
				"HIGH  reflects-any-origin-with-credentials: Any origin may read this URL with the user's cookies",
				"    Origin: https://corslab-scan.invalid\n", "    Access-Control-Allow-Origin: https://corslab-scan.invalid\n",
				"· trusts-null null: not sent: the server allows any origin",
				"1 finding: 1 high.",
			},
		},
		{
			desc: "jub0bs/cors trusting its subdomains: low findings only, exit 0",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsMiddleware(t, jub0bs.Config{Origins: []string{"https://*.example.com"}, Credentialed: true}, false)
			},
			wantExit: 0,
			wantOut:  []string{"LOW  accepts-lookalike-subdomain", "LOW  accepts-lookalike-sibling", "2 findings: 2 low."},
		},
		{
			desc: "jub0bs/cors tolerating the app over http: a medium finding",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				c := jub0bs.Config{Origins: []string{appOrigin, "http://app.example.com"}, Credentialed: true}
				c.DangerouslyTolerateInsecureOrigins = true
				return jub0bsMiddleware(t, c, false)
			},
			wantExit: 1,
			wantOut:  []string{"MEDIUM  accepts-http-of-https-origin", "1 finding: 1 medium."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			api := newCheckAPI(t, tt.mw(t), nil)
			args := append([]string{"scan", api.URL + "/api/items", "--origin", appOrigin, "--timeout", "2s"}, tt.args...)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, nil, &stdout, &stderr)
			if exitCode(err) != tt.wantExit {
				t.Errorf("exit %d (%v), want %d", exitCode(err), err, tt.wantExit)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("the output lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, got := range api.got() {
				if m, _, _ := strings.Cut(got, " "); m != "GET" && m != "OPTIONS" {
					t.Errorf("the scan sent %s", got)
				}
			}
		})
	}
}

func TestScanJSON(t *testing.T) {
	api := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{appOrigin, "null"}, AllowCredentials: true}).Handler, nil)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"scan", "--json", api.URL, "--origin", appOrigin}, nil, &stdout, &bytes.Buffer{})
	if exitCode(err) != 1 {
		t.Errorf("exit %d (%v), want 1", exitCode(err), err)
	}
	var out struct {
		Target   string `json:"target"`
		Requests int    `json:"requests"`
		Findings []struct {
			ID, Severity, Title, Explanation, Fix string
			Evidence                              []struct {
				Seq                     int
				Origin                  string
				RawRequest, RawResponse string
				Verdict                 string
			}
		} `json:"findings"`
		Checks []struct{ ID, Outcome string } `json:"checks"`
		Error  string                         `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(out.Findings) != 1 || out.Findings[0].ID != "trusts-null" || out.Findings[0].Severity != "high" || out.Error != "" {
		t.Fatalf("findings %+v, error %q: want trusts-null, high", out.Findings, out.Error)
	}
	ev := out.Findings[0].Evidence
	if len(ev) != 1 || ev[0].Origin != "null" || !strings.Contains(ev[0].RawRequest, "\r\nOrigin: null\r\n") ||
		!strings.Contains(ev[0].RawResponse, "\r\nAccess-Control-Allow-Origin: null\r\n") || ev[0].Verdict == "" {
		t.Errorf("evidence %+v", ev)
	}
	if len(out.Checks) != 12 || out.Requests != len(api.got()) {
		t.Errorf("%d checks, %d requests counted, %d sent", len(out.Checks), out.Requests, len(api.got()))
	}
}

func TestScanRedirect(t *testing.T) {
	// The other API is on localhost, the first on 127.0.0.1: another host.
	other := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{appOrigin}, AllowCredentials: true}).Handler, nil)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/v2/items"
	api := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{appOrigin}, AllowCredentials: true}).Handler,
		func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, otherURL, http.StatusFound) })
	args := []string{"scan", api.URL + "/api/items", "--origin", appOrigin}

	var stdout bytes.Buffer
	err := run(context.Background(), args, nil, &stdout, &bytes.Buffer{})
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "add --allow-redirect localhost") || len(other.got()) != 0 {
		t.Errorf("to a host not allowed: exit %d, %v; the other host got %q", exitCode(err), err, other.got())
	}

	stdout.Reset()
	err = run(context.Background(), append(args, "--allow-redirect", "localhost"), nil, &stdout, &bytes.Buffer{})
	if exitCode(err) != 0 || !strings.Contains(stdout.String(), "the scan probed that URL") || len(other.got()) < 10 {
		t.Errorf("exit %d (%v); the other host got %d requests\n%s", exitCode(err), err, len(other.got()), stdout.String())
	}
}

func TestScanErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/api/items"
	l.Close()
	tests := []struct {
		desc string
		args []string
		want string
	}{
		{"a closed port", []string{"scan", closed, "--origin", appOrigin}, "connection refused"},
		{"no URL", []string{"scan", "--origin", appOrigin}, "URL: which URL to scan?"},
		{"two URLs", []string{"scan", "http://a/", "http://b/", "--origin", appOrigin}, "URL: one URL at a time"},
		{"a relative URL", []string{"scan", "/api/items", "--origin", appOrigin}, "URL: must be an absolute http or https URL"},
		{"no origin", []string{"scan", "http://a/"}, "--origin: is required"},
		{"null", []string{"scan", "http://a/", "--origin", "null"}, "--origin: must be your app's origin"},
		{"an origin with a path", []string{"scan", "http://a/", "--origin", appOrigin + "/app"}, "--origin: an origin has no path"},
		{"a method that is not a token", []string{"scan", "http://a/", "--origin", appOrigin, "--method", "P T"}, "--method: must be an HTTP method"},
		{"a header without a colon", []string{"scan", "http://a/", "--origin", appOrigin, "--header", "Authorization"}, "--header: must be 'Name: value'"},
		{"a header name with a space", []string{"scan", "http://a/", "--origin", appOrigin, "--header", "X A: 1"}, "--header: the name must be a token"},
		{"an allowed host with a scheme", []string{"scan", "http://a/", "--origin", appOrigin, "--allow-redirect", "https://b"}, "--allow-redirect: must be a bare host name"},
		{"a zero timeout", []string{"scan", "http://a/", "--origin", appOrigin, "--timeout", "0s"}, "--timeout: must be more than 0"},
		{"a flag of check's", []string{"scan", "http://a/", "--origin", appOrigin, "--credentials", "include"}, "flag provided but not defined: -credentials"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, nil, &stdout, &stderr)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: exit %d, %v; want 2 and %q", tt.desc, exitCode(err), err, tt.want)
		}
		if msg := err.Error(); tt.desc != "a closed port" && !strings.Contains(msg, "corslab scan --help") && !strings.Contains(msg, "flag provided") {
			t.Errorf("%s: %q does not point to corslab scan --help", tt.desc, msg)
		}
	}
	var stderr bytes.Buffer
	err = run(context.Background(), []string{"scan", "--help"}, nil, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "Exit status: 0 when no finding is of medium severity or above") {
		t.Errorf("--help: %v, printed %q", err, stderr.String())
	}
}
