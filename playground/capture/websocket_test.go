package capture

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// hijacker lets gorilla's upgrader hijack through capture's writer, which
// unwraps but does not hijack (the api origin's socket does the same).
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// The handshake is an exchange like any other, published as soon as the
// 101 is out, while the socket is still open; after it, every frame that
// crosses the connection is published, both ways, a client's unmasked.
func TestWebSocketHandshakeAndFramesAreCapturedRaw(t *testing.T) {
	frames := make(chan *Frame, 64)
	release := make(chan struct{})
	handlerDone := make(chan struct{})
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		if !TapWebSocket(r, func(f *Frame) { frames <- f }) {
			t.Error("TapWebSocket: the request's connection is not tapped")
		}
		conn, err := upgrader.Upgrade(hijacker{w}, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		conn.WriteMessage(websocket.TextMessage, []byte("hi"))
		conn.WriteMessage(websocket.TextMessage, []byte("x"+strings.Repeat("é", 3000))) // 6,001 bytes: the cap cuts an é
		conn.ReadMessage()
		<-release
	}))
	h := http.Header{"Origin": {"http://evil.test"}}
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/s/socket", h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	ex := next(t, got) // while the handler still runs
	select {
	case <-handlerDone:
		t.Error("the handler returned before the exchange was published")
	default:
	}
	if ex.Response.Status != 101 || !strings.HasPrefix(ex.Raw.Response, "HTTP/1.1 101 Switching Protocols\r\n") {
		t.Errorf("response: %d, raw %q", ex.Response.Status, ex.Raw.Response)
	}
	if v, _ := ex.Response.Header("Sec-WebSocket-Accept"); v == "" {
		t.Errorf("the 101's headers are not kept: %q", ex.Response.Headers)
	}
	if !strings.HasPrefix(ex.Raw.Request, "GET /s/socket HTTP/1.1\r\n") || !strings.Contains(ex.Raw.Request, "\r\nOrigin: http://evil.test\r\n") ||
		!strings.Contains(ex.Raw.Request, "\r\nSec-WebSocket-Key: ") {
		t.Errorf("raw request head %q", ex.Raw.Request)
	}
	if ex.Kind != KindCORS {
		t.Errorf("kind %q, want %q", ex.Kind, KindCORS)
	}

	if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	take := func() *Frame {
		t.Helper()
		select {
		case f := <-frames:
			return f
		case <-time.After(5 * time.Second):
			t.Fatal("no frame published")
			return nil
		}
	}
	hi, big, hello := take(), take(), take()
	for _, tt := range []struct {
		desc          string
		f             *Frame
		dir, payload  string
		size          int64
		masked, trunc bool
		headPrefix    string
	}{
		{"server's first", hi, ServerToClient, "hi", 2, false, false, "81 02"},
		{"server's big one", big, ServerToClient, "x" + strings.Repeat("é", MaxFramePayload/2-1), 6001, false, true, "81 7e 17 71"},
		{"client's", hello, ClientToServer, "hello", 5, true, false, "81 85 "},
	} {
		f := tt.f
		if f.Direction != tt.dir || f.Payload != tt.payload || f.PayloadSize != tt.size || f.Masked != tt.masked ||
			f.PayloadTruncated != tt.trunc || !strings.HasPrefix(f.Head, tt.headPrefix) || f.OpcodeName != "text" || !f.Fin {
			t.Errorf("%s: %+v", tt.desc, *f)
		}
		if f.Origin != "api" || f.Client != ex.Client || f.Exchange != 1 || f.At.IsZero() {
			t.Errorf("%s: origin %q client %q exchange %d at %v", tt.desc, f.Origin, f.Client, f.Exchange, f.At)
		}
	}
	if len(hello.Head) != len("81 85 aa bb cc dd") {
		t.Errorf("client frame head %q has no masking key", hello.Head)
	}
	close(release)
	<-handlerDone
	select {
	case ex := <-got:
		t.Errorf("the exchange was published twice: %+v", ex)
	default:
	}
}

// Without TapWebSocket, the handshake is still captured, and nothing else.
func TestWebSocketFramesOnlyWhenAsked(t *testing.T) {
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(hijacker{w}, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.WriteMessage(websocket.TextMessage, []byte("hi"))
		conn.ReadMessage()
	}))
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/s/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ex := next(t, got); ex.Response.Status != 101 {
		t.Errorf("status %d", ex.Response.Status)
	}
}

// frame builds a frame as a client (with mask) or a server sends it.
func frame(fin bool, op byte, payload []byte, mask []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var m byte
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, m|byte(n))
	case n < 1<<16:
		out = append(out, m|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask...)
	for i, c := range payload {
		out = append(out, c^mask[i%4])
	}
	return out
}

// The parser reads frames however the bytes are cut: lengths of each size,
// masks, fragments, control frames, binary payloads and truncation.
func TestFrameParser(t *testing.T) {
	mask := []byte{0x37, 0xfa, 0x21, 0x3d}
	long := strings.Repeat("ab", 100)  // 200 bytes: a 16-bit length
	huge := strings.Repeat("z", 70000) // a 64-bit length, truncated
	closePayload := append(binary.BigEndian.AppendUint16(nil, 1000), "bye"...)
	var stream []byte
	for _, f := range [][]byte{
		frame(true, 1, []byte("Hello"), mask),
		frame(true, 1, []byte(long), mask),
		frame(false, 1, []byte("frag"), mask),
		frame(true, 0, []byte("ment"), mask),
		frame(true, 2, []byte{0xff, 0x00, 0xfe}, mask),
		frame(true, 9, nil, mask),
		frame(true, 1, []byte(huge), nil),
		frame(true, 8, closePayload, mask),
	} {
		stream = append(stream, f...)
	}
	want := []struct {
		op, payload, encoding string
		fin, trunc            bool
		size                  int64
		closeCode             int
	}{
		{"text", "Hello", "", true, false, 5, 0},
		{"text", long, "", true, false, 200, 0},
		{"text", "frag", "", false, false, 4, 0},
		{"continuation", "ment", "", true, false, 4, 0},
		{"binary", base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}), "base64", true, false, 3, 0},
		{"ping", "", "", true, false, 0, 0},
		{"text", huge[:MaxFramePayload], "", true, true, 70000, 0},
		// The code is two bytes of binary: the payload is base64, the
		// code and reason are given apart.
		{"close", base64.StdEncoding.EncodeToString(closePayload), "base64", true, false, 5, 1000},
	}
	for _, cut := range []int{1, 3, 7, 4096, len(stream)} {
		var got []*Frame
		fp := frameParser{publish: func(f *Frame) { got = append(got, f) }}
		for b := stream; len(b) > 0; {
			n := min(cut, len(b))
			fp.feed(b[:n])
			b = b[n:]
		}
		if len(got) != len(want) {
			t.Fatalf("cut %d: %d frames, want %d", cut, len(got), len(want))
		}
		for i, w := range want {
			f := got[i]
			if f.OpcodeName != w.op || f.Payload != w.payload || f.PayloadEncoding != w.encoding || f.Fin != w.fin ||
				f.PayloadTruncated != w.trunc || f.PayloadSize != w.size || f.CloseCode != w.closeCode {
				t.Errorf("cut %d, frame %d: got %s %q (%q, fin %v, truncated %v, size %d, close %d)", cut, i,
					f.OpcodeName, f.Payload[:min(len(f.Payload), 40)], f.PayloadEncoding, f.Fin, f.PayloadTruncated, f.PayloadSize, f.CloseCode)
			}
		}
		if got[0].Head != "81 85 37 fa 21 3d" || got[1].Head != "81 fe 00 c8 37 fa 21 3d" || !got[0].Masked || got[6].Masked {
			t.Errorf("cut %d: heads %q, %q", cut, got[0].Head, got[1].Head)
		}
		if got[7].CloseReason != "bye" {
			t.Errorf("cut %d: close reason %q", cut, got[7].CloseReason)
		}
	}
}

// A flood of frames is parsed but only the first few are published, and a
// length with its top bit set stops the parser.
func TestFrameParserBounds(t *testing.T) {
	var n int
	fp := frameParser{publish: func(*Frame) { n++ }}
	ping := frame(true, 9, nil, []byte{1, 2, 3, 4})
	for range 1000 {
		fp.feed(ping)
	}
	if n != maxFramesPerDirection {
		t.Errorf("published %d of 1000 pings, want %d", n, maxFramesPerDirection)
	}
	n = 0
	fp = frameParser{publish: func(*Frame) { n++ }}
	fp.feed([]byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0})
	fp.feed(frame(true, 1, []byte("x"), nil))
	if n != 0 || !fp.broken {
		t.Errorf("after a bad length: published %d, broken %v", n, fp.broken)
	}
}

func TestFrameJSONMatchesEncodingJSON(t *testing.T) {
	f := &Frame{Seq: 3, Exchange: 2, Origin: "api", Client: "127.0.0.1:1", Direction: ClientToServer,
		At: time.Date(2026, 12, 6, 7, 0, 0, 5, time.UTC), Fin: true, Opcode: 8, OpcodeName: "close", Masked: true,
		Head: "88 82 01 02 03 04", Payload: "<é>\u2028", PayloadSize: 7, CloseCode: 1000, CloseReason: "<bye>"}
	for name, f := range map[string]*Frame{"close": f, "zero": {}} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		if got, want := string(f.AppendJSON(nil)), strings.TrimSuffix(b.String(), "\n"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
