package capture

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/corslab/corslab/playground/cors"
)

// captured serves one request through capture and returns its exchange.
func captured(t *testing.T, h http.HandlerFunc, request string) *Exchange {
	t.Helper()
	addr, got := serve(t, h)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	method, _, _ := strings.Cut(request, " ")
	roundTrip(t, c, bufio.NewReader(c), strings.ReplaceAll(request, "{addr}", addr), method)
	ex := next(t, got)
	ex.Seq = 7
	return ex
}

// What a session keeps of an exchange gives back the exchange, its JSON
// byte for byte, and the engine's view the JSON gives; it keeps each
// header and body once.
func TestKeptGivesTheExchangeBack(t *testing.T) {
	binary := string([]byte{0xff, 0xfe, 0, 1})
	cases := map[string]*Exchange{
		"preflight": captured(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "http://a.test")
			w.WriteHeader(http.StatusNoContent)
		}, "OPTIONS /s1/users?x=1 HTTP/1.1\r\nhost: {addr}\r\nORIGIN: http://a.test\r\n"+
			"access-control-request-method: PUT\r\nAccess-Control-Request-Headers:  x-user-id \r\n\r\n"),
		"bodies": captured(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":1,"name":"<Ada>"}`))
		}, "PUT /s1/users/1 HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 13\r\n\r\n{\"name\":\"A\"}\n"),
		"binary and long": captured(t, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(binary + strings.Repeat("x", 70<<10)))
		}, "GET /s1/x HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
		"made by hand": {Seq: 3, Start: time.Now(), Origin: "api",
			Request:  Message{Method: "GET", Target: "/s/a", Headers: [][2]string{{"Host", "h:1"}, {"Origin", "http://a"}}},
			Response: Message{Status: 200, Headers: [][2]string{}, Body: "hi", BodySize: 2, BodyDropped: true},
			Raw:      Raw{Request: "GET /s/a HTTP/1.1\r\n\r\n", Response: noResponse}},
		"zero": {},
	}
	for name, ex := range cases {
		k := Keep(ex)
		want, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		back := k.Exchange()
		got, err := json.Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: kept and given back:\n%s\nrecorded:\n%s", name, got, want)
		}
		if got := string(k.AppendJSON(nil)); got != string(ex.AppendJSON(nil)) {
			t.Errorf("%s: AppendJSON differs from the recorded exchange's", name)
		}
		var fromJSON Exchange
		if err := json.Unmarshal(want, &fromJSON); err != nil {
			t.Fatal(err)
		}
		host, _ := fromJSON.Request.Header("Host")
		wantEngine := cors.Exchange{Seq: ex.Seq, At: fromJSON.Start, Method: fromJSON.Request.Method, URL: "http://" + host + fromJSON.Request.Target,
			RequestHeaders: fromJSON.Request.Headers, Status: fromJSON.Response.Status, ResponseHeaders: fromJSON.Response.Headers}
		engine := k.Engine()
		if !engine.At.Equal(wantEngine.At) || engine.At != engine.At.Round(0) {
			t.Errorf("%s: the engine's At is %v, the JSON's %v", name, engine.At, wantEngine.At)
		}
		engine.At, wantEngine.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(engine, wantEngine) {
			t.Errorf("%s: the engine gets\n%+v\nthe JSON gives\n%+v", name, engine, wantEngine)
		}
		// Once: the heads and bodies, not the lists or the raw text.
		if name != "made by hand" && name != "zero" {
			once := len(ex.Request.head) + len(ex.Response.head) + len(ex.Request.Body) + len(ex.Response.Body)
			if extra := len(k.text) - once; k.lists != nil || extra < 0 || extra > 200 {
				t.Errorf("%s: keeps %d bytes of text (lists: %v) for %d of heads and bodies", name, len(k.text), k.lists != nil, once)
			}
			if k.Bytes() != int64(unsafe.Sizeof(k))+int64(len(k.text)) {
				t.Errorf("%s: Bytes = %d", name, k.Bytes())
			}
		}
	}
}

// BenchmarkKeptEngine is what giving the engine an exchange costs: made
// from what the session keeps, where POST /runs used to decode the
// exchange's JSON.
func BenchmarkKeptEngine(b *testing.B) {
	r := httptest.NewRequest("GET", "/s1/users", nil)
	r.Host = "127.0.0.1:8082"
	for _, name := range []string{"Accept", "Origin", "Referer", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "User-Agent"} {
		r.Header.Set(name, "a value of the length browsers send, more or less")
	}
	var ex *Exchange
	w, r, finish := Start(httptest.NewRecorder(), r, "api", func(e *Exchange) { ex = e })
	w.Header().Set("Access-Control-Allow-Origin", "http://127.0.0.1:8081")
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `[{"id":1,"name":"Ada Lovelace","email":"ada@example.com"}]`)
	finish()
	data, err := json.Marshal(ex)
	if err != nil {
		b.Fatal(err)
	}
	k := Keep(ex)
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Exchange
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Engine()
		}
	})
}
