package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/jsonw"
)

// Directions of a WebSocket frame.
const (
	ClientToServer = "client-to-server"
	ServerToClient = "server-to-client"
)

// MaxFramePayload is how much of each WebSocket frame's payload a Frame
// keeps.
const MaxFramePayload = 4 << 10

// maxFramesPerDirection bounds the frames one connection records in each
// direction: a client flooding pings must not flush the session's log.
// The api origin's socket allows 16 messages each way.
const maxFramesPerDirection = 64

// A Frame is one WebSocket frame as it crossed the wire after a handshake
// the tap saw (RFC 6455 section 5.2), with a client's payload unmasked.
type Frame struct {
	Seq      uint64 `json:"seq"`      // set by the session that records it
	Exchange uint64 `json:"exchange"` // the seq of the handshake's exchange
	Origin   string `json:"origin"`
	Client   string `json:"client"`
	// Direction is ClientToServer or ServerToClient.
	Direction string    `json:"direction"`
	At        time.Time `json:"at"` // when its head had crossed
	Fin       bool      `json:"fin"`
	Opcode    int       `json:"opcode"`
	// OpcodeName is continuation, text, binary, close, ping, pong, or
	// reserved. datatracker.ietf.org/doc/html/rfc6455#section-5.2
	OpcodeName string `json:"opcodeName"`
	Masked     bool   `json:"masked"`
	// Head is the frame's head as it was sent, in hex: the FIN and opcode
	// byte, the mask bit and length, the extended length and the masking
	// key.
	Head string `json:"head"`
	// Payload is the (unmasked) payload, its first MaxFramePayload bytes.
	Payload string `json:"payload"`
	// PayloadEncoding is "base64" when the payload is not UTF-8 text, or
	// the frame is binary.
	PayloadEncoding  string `json:"payloadEncoding"`
	PayloadSize      int64  `json:"payloadSize"`
	PayloadTruncated bool   `json:"payloadTruncated"`
	// CloseCode and CloseReason are a close frame's status code and reason.
	// datatracker.ietf.org/doc/html/rfc6455#section-5.5.1
	CloseCode   int    `json:"closeCode,omitempty"`
	CloseReason string `json:"closeReason,omitempty"`
}

// TapWebSocket makes the tap record each WebSocket frame of r's connection,
// once the server has switched it to WebSocket with a 101 answer, in both
// directions, and call publish with each: from the goroutine that read or
// wrote it, one at a time per direction. Call it in the handler before
// upgrading. It reports false when r did not come through a tapped
// connection, or its exchange is not being recorded (no Start).
func TapWebSocket(r *http.Request, publish func(*Frame)) bool {
	tc := connFrom(r.Context())
	if tc == nil {
		return false
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.waiting == nil {
		return false
	}
	tc.waiting.onFrame = publish
	return true
}

// isWebSocketAccept reports whether head is a 101 answer switching to
// WebSocket. datatracker.ietf.org/doc/html/rfc6455#section-4.2.2
func isWebSocketAccept(head []byte) bool {
	if !isSwitch(head) {
		return false
	}
	for line := range bytes.Lines(head) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("upgrade")) &&
			bytes.EqualFold(bytes.TrimSpace(value), []byte("websocket")) {
			return true
		}
	}
	return false
}

// isSwitch reports whether head is a 101 Switching Protocols answer: after
// it the connection speaks another protocol, so it ends the exchange.
func isSwitch(head []byte) bool {
	return bytes.HasPrefix(head, []byte("HTTP/1.1 101")) || bytes.HasPrefix(head, []byte("HTTP/1.0 101"))
}

// wsTap parses the frames of a connection switched to WebSocket, one
// parser per direction.
type wsTap struct {
	in, out frameParser
}

func newWSTap(ex *Exchange, publish func(*Frame)) *wsTap {
	base := Frame{Exchange: ex.Seq, Origin: ex.Origin, Client: ex.Client}
	t := &wsTap{}
	t.in = frameParser{base: base, publish: publish}
	t.in.base.Direction = ClientToServer
	t.out = frameParser{base: base, publish: publish}
	t.out.base.Direction = ServerToClient
	return t
}

// frameParser reads frames off one direction of a connection as its bytes
// pass, keeping at most MaxFramePayload bytes of each.
// datatracker.ietf.org/doc/html/rfc6455#section-5.2
type frameParser struct {
	base    Frame
	publish func(*Frame)

	// mu keeps one direction's frames in order: a frame is published
	// before the bytes of the next are parsed.
	mu        sync.Mutex
	head      []byte // the head so far
	frame     *Frame // the frame whose payload is passing, once its head has
	mask      [4]byte
	remaining uint64 // payload bytes still to come
	seen      uint64 // payload bytes seen
	payload   []byte // the first MaxFramePayload of them, unmasked
	published int
	broken    bool // the bytes are not WebSocket frames: stop parsing
}

// feed parses p, publishing every frame it completes.
func (fp *frameParser) feed(p []byte) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for len(p) > 0 && !fp.broken {
		if fp.frame == nil {
			p = fp.readHead(p)
			continue
		}
		n := min(uint64(len(p)), fp.remaining)
		if room := MaxFramePayload - len(fp.payload); room > 0 {
			for i, c := range p[:min(n, uint64(room))] {
				if fp.frame.Masked {
					c ^= fp.mask[(fp.seen+uint64(i))%4]
				}
				fp.payload = append(fp.payload, c)
			}
		}
		fp.seen += n
		fp.remaining -= n
		p = p[n:]
		if fp.remaining == 0 {
			fp.finish()
		}
	}
}

// readHead takes the head's bytes from p, and starts the frame once the
// head is complete; it returns the rest of p.
func (fp *frameParser) readHead(p []byte) []byte {
	for len(p) > 0 {
		fp.head = append(fp.head, p[0])
		p = p[1:]
		need, ok := headLen(fp.head)
		if !ok || len(fp.head) < need {
			continue
		}
		fp.start()
		return p
	}
	return p
}

// headLen is the length of the frame head that starts with b, once b says
// it: 2 bytes, then 2 or 8 of extended length, then 4 of masking key.
func headLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n, true
}

// start begins the frame whose head is complete.
func (fp *frameParser) start() {
	b := fp.head
	f := fp.base
	f.At = time.Now()
	f.Fin = b[0]&0x80 != 0
	f.Opcode = int(b[0] & 0x0f)
	f.OpcodeName = opcodeName(f.Opcode)
	f.Masked = b[1]&0x80 != 0
	f.Head = hexBytes(b)
	size := uint64(b[1] & 0x7f)
	rest := b[2:]
	switch size {
	case 126:
		size, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		size, rest = binary.BigEndian.Uint64(rest), rest[8:]
		if size>>63 != 0 {
			// "the most significant bit MUST be 0": not a frame.
			fp.broken = true
			return
		}
	}
	if f.Masked {
		copy(fp.mask[:], rest)
	}
	f.PayloadSize = int64(size)
	fp.frame, fp.remaining, fp.seen = &f, size, 0
	fp.payload = fp.payload[:0]
	fp.head = fp.head[:0]
	if size == 0 {
		fp.finish()
	}
}

// finish publishes the frame whose payload has passed.
func (fp *frameParser) finish() {
	f := fp.frame
	fp.frame = nil
	fp.published++
	if fp.published > maxFramesPerDirection {
		return
	}
	payload := fp.payload
	if f.Opcode == 8 && len(payload) >= 2 {
		f.CloseCode = int(binary.BigEndian.Uint16(payload))
		f.CloseReason = string(trimPartialRune(payload[2:]))
	}
	f.PayloadTruncated = int64(len(payload)) < f.PayloadSize
	if f.PayloadTruncated && !utf8.Valid(payload) && utf8.Valid(trimPartialRune(payload)) {
		payload = trimPartialRune(payload) // a character cut in half by the cap
	}
	if utf8.Valid(payload) && f.Opcode != 2 { // a binary message is shown as such, even when it could pass for text
		f.Payload = string(payload)
	} else {
		f.Payload = base64.StdEncoding.EncodeToString(payload)
		f.PayloadEncoding = "base64"
	}
	fp.publish(f)
}

func opcodeName(op int) string {
	switch op {
	case 0:
		return "continuation"
	case 1:
		return "text"
	case 2:
		return "binary"
	case 8:
		return "close"
	case 9:
		return "ping"
	case 10:
		return "pong"
	}
	return "reserved"
}

// hexBytes writes b as hex bytes separated by spaces: "81 85 37 fa 21 3d".
func hexBytes(b []byte) string {
	out := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = hex.AppendEncode(out, []byte{c})
	}
	return string(out)
}

// AppendJSON appends f as JSON, exactly as encoding/json would write it
// without HTML escaping.
func (f *Frame) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = jsonw.Uint(jsonw.Key(b, "seq"), f.Seq)
	b = jsonw.Uint(jsonw.Key(b, "exchange"), f.Exchange)
	b = jsonw.String(jsonw.Key(b, "origin"), f.Origin)
	b = jsonw.String(jsonw.Key(b, "client"), f.Client)
	b = jsonw.String(jsonw.Key(b, "direction"), f.Direction)
	b = jsonw.Time(jsonw.Key(b, "at"), f.At)
	b = jsonw.Bool(jsonw.Key(b, "fin"), f.Fin)
	b = jsonw.Int(jsonw.Key(b, "opcode"), int64(f.Opcode))
	b = jsonw.String(jsonw.Key(b, "opcodeName"), f.OpcodeName)
	b = jsonw.Bool(jsonw.Key(b, "masked"), f.Masked)
	b = jsonw.String(jsonw.Key(b, "head"), f.Head)
	b = jsonw.String(jsonw.Key(b, "payload"), f.Payload)
	b = jsonw.String(jsonw.Key(b, "payloadEncoding"), f.PayloadEncoding)
	b = jsonw.Int(jsonw.Key(b, "payloadSize"), f.PayloadSize)
	b = jsonw.Bool(jsonw.Key(b, "payloadTruncated"), f.PayloadTruncated)
	if f.CloseCode != 0 {
		b = jsonw.Int(jsonw.Key(b, "closeCode"), int64(f.CloseCode))
	}
	if f.CloseReason != "" {
		b = jsonw.String(jsonw.Key(b, "closeReason"), f.CloseReason)
	}
	return append(b, '}')
}
