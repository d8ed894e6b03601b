package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/need"
)

func TestNeed(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want []string
		not  []string
	}{
		{
			"a JSON PUT with credentials, every server",
			[]string{"need", "--origin", "https://app.example.com", "--method", "put", "--header", "Content-Type: application/json", "--header", "X-Api-Key", "--credentials", "--expose", "X-Request-Id"},
			[]string{
				"The narrowest policy for PUT from https://app.example.com (preflight first)",
				"Access-Control-Allow-Methods: PUT",
				"Access-Control-Allow-Headers: content-type, x-api-key",
				"Access-Control-Allow-Credentials: true",
				"Access-Control-Expose-Headers: X-Request-Id",
				"Vary: Origin",
				"--- corslab scenario", `"allowOrigin": "allowlist"`,
				"--- S3 bucket CORS configuration (PutBucketCors", "<AllowedMethod>PUT</AllowedMethod>",
				"--- nginx", "map $http_origin $cors_origin", "return 204;",
				"--- Express", "app.use(cors({",
				"--- Go, github.com/rs/cors", "cors.New(cors.Options{",
				"--- Go, github.com/jub0bs/cors", "cors.NewMiddleware(cors.Config{",
			},
			nil,
		},
		{
			"a simple GET, nginx only",
			[]string{"need", "--origin", "http://localhost:5173", "--server", "nginx"},
			[]string{"(no preflight)", "No preflight: GET with only safelisted headers is a simple request", "--- nginx"},
			[]string{"add_header Access-Control-Allow-Methods", "return 204;", "--- Express", "--- corslab"},
		},
		{
			"a signed S3 redirect",
			[]string{"need", "--origin", "https://app.example.com", "--credentials", "--s3-redirect", "--server", "s3"},
			[]string{"At the S3 bucket: allow GET from null", "redirect-tainted", "<AllowedOrigin>null</AllowedOrigin>"},
			[]string{"<AllowedOrigin>https://app.example.com</AllowedOrigin>"},
		},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tt.args, nil, &stdout, &stderr); err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%s: no %q in\n%s", tt.desc, w, stdout.String())
			}
		}
		for _, w := range tt.not {
			if strings.Contains(stdout.String(), w) {
				t.Errorf("%s: %q in\n%s", tt.desc, w, stdout.String())
			}
		}
	}
}

func TestNeedJSON(t *testing.T) {
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"need", "--origin", "https://a.example", "--origin", "https://b.example", "--method", "DELETE", "--json"}, nil, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Policy   need.Policy
		Snippets []need.Snippet
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, stdout.String())
	}
	if want := []string{"https://a.example", "https://b.example"}; strings.Join(got.Policy.Origins, " ") != strings.Join(want, " ") {
		t.Errorf("origins %q, want %q", got.Policy.Origins, want)
	}
	if strings.Join(got.Policy.AllowMethods, " ") != "DELETE" || !got.Policy.Preflight || got.Policy.MaxAge != need.MaxAge {
		t.Errorf("policy %+v, want DELETE with a preflight and max-age %d", got.Policy, need.MaxAge)
	}
	var servers []string
	for _, s := range got.Snippets {
		servers = append(servers, s.Server)
	}
	if got, want := strings.Join(servers, " "), "corslab s3 s3 nginx express rs-cors jub0bs-cors"; got != want {
		t.Errorf("snippets for %s, want %s", got, want)
	}
}

func TestNeedErrors(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want string
	}{
		{"no origin", []string{"need"}, "--origin: name at least one origin"},
		{"a wildcard", []string{"need", "--origin", "*"}, "--origin: must be a serialized origin, scheme://host[:port], not *"},
		{"a path", []string{"need", "--origin", "https://a.example/"}, "--origin: must be a serialized origin, scheme://host[:port], without path"},
		{"a method that is not a token", []string{"need", "--origin", "https://a.example", "--method", "P T"}, "--method: must be an HTTP token"},
		{"a forbidden header", []string{"need", "--origin", "https://a.example", "--header", "Cookie"}, "--header: Cookie is a forbidden request header"},
		{"a header name with a space", []string{"need", "--origin", "https://a.example", "--header", "X A"}, "--header: header names must be tokens"},
		{"Set-Cookie exposed", []string{"need", "--origin", "https://a.example", "--expose", "Set-Cookie"}, "--expose: JavaScript can never read Set-Cookie"},
		{"an unknown server", []string{"need", "--origin", "https://a.example", "--server", "apache"}, `--server: must be one of corslab, s3, nginx, express, rs-cors, jub0bs-cors or all, got "apache"`},
		{"an argument", []string{"need", "https://a.example"}, `unexpected argument "https://a.example"`},
		{"an unknown flag", []string{"need", "--verbose"}, "flag provided but not defined: -verbose"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, nil, &bytes.Buffer{}, &bytes.Buffer{})
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: exit %d, %v; want 2 and %q", tt.desc, exitCode(err), err, tt.want)
		}
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"need", "--help"}, nil, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "Usage: corslab need --origin O") {
		t.Errorf("--help: %v, printed %q", err, stderr.String())
	}
}
