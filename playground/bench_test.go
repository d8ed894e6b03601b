package playground

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
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
