package capture

import (
	"io"
	"net"
	"net/http"
	"testing"
)

// BenchmarkSimpleRequest measures what capture adds to a simple GET over a
// keep-alive loopback connection: compare the two sub-benchmarks.
func BenchmarkSimpleRequest(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		io.WriteString(w, `[{"id":1,"username":"ada"}]`)
	})
	for _, tc := range []struct {
		name    string
		capture bool
	}{{"plain", false}, {"captured", true}} {
		b.Run(tc.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: handler}
			if tc.capture {
				published := make(chan *Exchange, 1)
				srv.ConnContext = ConnContext
				srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w, r, finish := Start(w, r, "api", func(ex *Exchange) {
						select {
						case published <- ex:
						default:
						}
					})
					defer finish()
					handler.ServeHTTP(w, r)
				})
				go func() {
					for range published {
					}
				}()
				ln = NewListener(ln)
			}
			go srv.Serve(ln)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/s/users", nil)
			req.Header.Set("Origin", "http://127.0.0.1:8081")
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
