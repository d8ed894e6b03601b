package capture

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/corslab/corslab/playground/cors"
)

// The engine's view of an exchange gives the engine what the exchange's
// JSON gives it: the same header lists, in wire order and case, the URL,
// and the start as the wall clock; and it keeps the raw heads, not lists.
func TestEngineView(t *testing.T) {
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "http://a.test")
		w.WriteHeader(http.StatusNoContent)
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, bufio.NewReader(c), "OPTIONS /s1/users?x=1 HTTP/1.1\r\nhost: "+addr+"\r\nORIGIN: http://a.test\r\n"+
		"access-control-request-method: PUT\r\nAccess-Control-Request-Headers:  x-user-id \r\n\r\n", "OPTIONS")
	ex := next(t, got)
	ex.Seq = 7
	data, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Exchange
	if err := json.Unmarshal(data, &fromJSON); err != nil {
		t.Fatal(err)
	}

	view := ex.Engine()
	got2 := view.Exchange()

	want := cors.Exchange{Seq: 7, At: fromJSON.Start, Method: "OPTIONS", URL: "http://" + addr + "/s1/users?x=1",
		RequestHeaders: fromJSON.Request.Headers, Status: 204, ResponseHeaders: fromJSON.Response.Headers}
	// The same instant, without the monotonic reading (the engine only
	// compares and adds times: their Location does not matter).
	if !got2.At.Equal(want.At) || got2.At != got2.At.Round(0) {
		t.Errorf("the view's At is %v, the JSON's %v", got2.At, want.At)
	}
	got2.At, want.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got2, want) {
		t.Errorf("the view gives\n%+v\nthe JSON\n%+v", got2, want)
	}
	if view.ex.RequestHeaders != nil || view.ex.ResponseHeaders != nil || view.reqHead == "" || view.respHead == "" {
		t.Errorf("the view keeps lists %v %v and heads %q %q; want the heads only",
			view.ex.RequestHeaders, view.ex.ResponseHeaders, view.reqHead, view.respHead)
	}
	heads := int64(len(view.reqHead) + len(view.respHead))
	if b := view.Bytes(); b != int64(unsafe.Sizeof(view))+int64(len(want.URL))+heads {
		t.Errorf("Bytes = %d, want the view, its URL and its %d bytes of heads", b, heads)
	}
}

// An exchange without raw heads (made by hand, or read back from JSON)
// keeps its lists, and they count.
func TestEngineViewWithoutHeads(t *testing.T) {
	ex := &Exchange{Seq: 3, Start: time.Now(),
		Request:  Message{Method: "GET", Target: "/s/a", Headers: [][2]string{{"Host", "h:1"}, {"Origin", "http://a"}}},
		Response: Message{Status: 200, Headers: [][2]string{{"Access-Control-Allow-Origin", "*"}}}}
	view := ex.Engine()
	got := view.Exchange()
	if got.URL != "http://h:1/s/a" || !reflect.DeepEqual(got.RequestHeaders, ex.Request.Headers) ||
		!reflect.DeepEqual(got.ResponseHeaders, ex.Response.Headers) {
		t.Errorf("the view gives %+v", got)
	}
	lists := int64(3*unsafe.Sizeof([2]string{})) + int64(len("Host"+"h:1"+"Origin"+"http://a"+"Access-Control-Allow-Origin"+"*"))
	if b := view.Bytes(); b != int64(unsafe.Sizeof(view))+int64(len(got.URL))+lists {
		t.Errorf("Bytes = %d, want the view, its URL and its lists (%d)", b, lists)
	}
}

// BenchmarkEngineView is what giving the engine an exchange costs: the
// view, where POST /runs used to decode the exchange's JSON.
func BenchmarkEngineView(b *testing.B) {
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
	view := ex.Engine()
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Exchange
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			view.Exchange()
		}
	})
}
