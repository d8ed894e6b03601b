package playground

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/capture"
)

// BenchmarkRequestToFrame measures the time from a request reaching the api
// origin (the exchange's start, when its handler began) to the exchange's
// frame arriving on a websocket subscribed to the session. It reports the
// median and the 99th percentile; ns/op is the whole round trip.
func BenchmarkRequestToFrame(b *testing.B) {
	srv := startServer(b, 10)
	sess := createSession(b, srv, `{"api": {"allowOrigin": "echo"}}`)
	ws := dialWS(b, srv, sess.ID, "")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	req, _ := http.NewRequest("GET", srv.testURL(API)+"/"+sess.ID+"/users", nil)
	req.Header.Set("Origin", srv.testURL(App))

	// A reader of its own stamps each frame the moment it arrives.
	latencies := make(chan time.Duration, 1)
	go func() {
		for {
			var f frame
			if err := ws.ReadJSON(&f); err != nil {
				close(latencies)
				return
			}
			latencies <- time.Since(f.Exchange.Start)
		}
	}()

	var lat []time.Duration
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d, ok := <-latencies
		if !ok {
			b.Fatal("websocket closed")
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "µs-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "µs-p99")
}

// BenchmarkAddRun is POST /api/sessions/{id}/runs end to end, in process:
// the UI origin's whole handler (guard, routes, session lookup), decoding
// and validating the run, the engine's verdict over the exchanges it
// claims, keeping it, fanning its frame out to a subscriber, and the
// answer. Each run first records the two exchanges it claims (a preflight
// and a PUT, captured once from the real api origin) as capture does, so
// the cost of keeping an exchange for the engine is counted too. cpu-ns/op
// is the process's CPU time, garbage collection included, per run.
func BenchmarkAddRun(b *testing.B) {
	srv := startServer(b, 10)
	s := createSession(b, srv, `{"api": {"allowOrigin": "echo", "allowMethods": "PUT", "allowHeaders": "x-trace", "exposeHeaders": "x-request-id"},
		"request": {"method": "PUT", "headers": {"X-Trace": "1"}, "body": "{\"name\":\"Ada\"}"}}`)
	sess := srv.sessions.Peek(s.ID)

	// The exchanges of one real run, as the api origin captured them.
	app, api := srv.testURL(App), srv.testURL(API)+"/"+s.ID+"/users/1"
	for _, req := range []*http.Request{
		mustRequest(b, "OPTIONS", api, "", "Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-trace"),
		mustRequest(b, "PUT", api, `{"name":"Ada"}`, "Origin", app, "X-Trace", "1", "Content-Type", "text/plain;charset=UTF-8"),
	} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var templates []capture.Exchange
	for deadline := time.Now().Add(5 * time.Second); len(sess.Exchanges(0)) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("captured %d exchanges, want 2", len(sess.Exchanges(0)))
		}
	}
	for _, raw := range sess.Exchanges(0) {
		var ex capture.Exchange
		if err := json.Unmarshal(raw, &ex); err != nil {
			b.Fatal(err)
		}
		templates = append(templates, ex)
	}

	// A page watching the session, draining its frames.
	sub, _, err := sess.Subscribe(sess.LastSeq(), sess.LastRun())
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-sub.Ready:
				for _, ok := sub.Next(); ok; _, ok = sub.Next() {
				}
			case <-sub.Gone:
				return
			}
		}
	}()

	run := func(since uint64) string {
		return `{"request": {"from": "app", "lookalikeHost": "app-corslab.localhost", "target": "api", "method": "PUT", "path": "/users/1",
			"headers": {"X-Trace": "1"}, "body": "{\"name\":\"Ada\"}", "credentials": "same-origin", "mode": "cors", "redirect": "follow"},
			"url": "` + api + `", "since": ` + strconv.FormatUint(since, 10) + `,
			"browser": {"ok": true, "status": 200, "error": "", "type": "cors", "redirected": false, "url": "` + api + `",
				"headers": [["content-type", "application/json"], ["x-request-id", "7f3a9c"]],
				"body": "{\"id\":1,\"name\":\"Ada\",\"email\":\"ada@example.com\",\"note\":\"<b>kept</b> & shown\"}", "bodyTruncated": false, "durationMs": 12.5},
			"userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"prediction": {"ok": false, "stage": "preflight"}, "documentId": "d1"}`
	}
	handler := srv.servers[UI].Handler
	target := srv.testURL(UI) + "/api/sessions/" + s.ID + "/runs"
	b.ReportAllocs()
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		since := sess.LastSeq()
		for _, ex := range templates {
			sess.Record(&ex)
		}
		req := httptest.NewRequest("POST", target, strings.NewReader(run(since)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.testURL(UI))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated || !bytes.Contains(rec.Body.Bytes(), []byte(`"agrees":true`)) {
			b.Fatalf("POST /runs: %d %.300s", rec.Code, rec.Body)
		}
	}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

func mustRequest(b *testing.B, method, url, body string, header ...string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}
