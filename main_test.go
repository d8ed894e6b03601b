package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunFlags(t *testing.T) {
	tests := []struct {
		desc    string
		args    []string
		wantErr string
	}{
		{"help", []string{"--help"}, "flag: help requested"},
		{"stray argument", []string{"serve"}, `unexpected argument "serve"`},
		{"port out of range", []string{"--port", "65534"}, "--port: must be from 1 to 65531"},
		{"listen not an address", []string{"--listen", "my laptop"}, "--listen: must be an IP address"},
		{"no sessions", []string{"--max-sessions", "0"}, "--max-sessions: must be at least 1"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want an error containing %q", tt.desc, err, tt.wantErr)
		}
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, nil, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "--port") && !strings.Contains(stderr.String(), "-port") {
		t.Errorf("--help printed %q", stderr.String())
	}
}

// freeBase finds five consecutive free loopback ports.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base > 65531 {
			continue
		}
		ok := true
		for i := range 5 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no five consecutive free ports")
	return 0
}

func TestPortTaken(t *testing.T) {
	base := freeBase(t)
	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+2))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = run(context.Background(), []string{"--port", strconv.Itoa(base)}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	want := "port " + strconv.Itoa(base+2) + " (api) is already in use; move corslab with --port N"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line containing %q", err, want)
	}
}

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunServesAndStops(t *testing.T) {
	base := freeBase(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--port", strconv.Itoa(base)}, nil, &stdout, &bytes.Buffer{}) }()

	ui := "http://127.0.0.1:" + strconv.Itoa(base)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up banner: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := stdout.String()
	for i, role := range []string{"ui", "app", "api", "s3", "evil"} {
		line := regexp.MustCompile(`(?m)^  ` + role + ` +http://127\.0\.0\.1:` + strconv.Itoa(base+i) + ` `)
		if !line.MatchString(out) {
			t.Errorf("banner lacks the %s origin on port %d:\n%s", role, base+i, out)
		}
	}
	if !strings.Contains(out, "Open "+ui+"/lab") {
		t.Errorf("banner does not say what to open:\n%s", out)
	}
	resp, err := http.Get(ui + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
