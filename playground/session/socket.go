package session

import (
	"encoding/json"
	"sort"
	"unsafe"

	"github.com/corslab/corslab/playground/capture"
)

// Bounds on the WebSocket frames one session keeps, for replay after a
// reconnect. Every byte also counts against the store's Budget, and
// shedding takes the oldest with the oldest exchanges.
const (
	MaxSocketFrames     = 256
	MaxSocketFrameBytes = 1 << 20 // encoded: each frame's payload is at most capture.MaxFramePayload
)

// socketFramePrefix starts the stream frame of a WebSocket frame the api
// origin's socket sent or received: {"type":"websocket-frame","frame":…}.
const socketFramePrefix = `{"type":"websocket-frame","frame":`

// socketFrame is a WebSocket frame as the session keeps it: its stream
// frame, ready to send again. It is small (a payload of at most
// capture.MaxFramePayload), so it is kept encoded.
type socketFrame struct {
	seq   uint64
	frame stored
}

func (f *socketFrame) bytes() int64 { return int64(unsafe.Sizeof(*f)) + int64(len(f.frame.frame)) }

// RecordSocketFrame gives f the next sequence number, the one exchanges
// take theirs from, so that a page asking for what follows seq since gets
// exchanges and frames in the order they happened; keeps it; and sends it to
// every subscriber. Like Record, it never blocks.
func (s *Session) RecordSocketFrame(f *capture.Frame) {
	s.touch()
	s.changed()
	s.active.Store(true)
	s.mu.Lock()
	s.seq++
	f.Seq = s.seq
	k := socketFrame{seq: f.Seq, frame: appendFrame(socketFramePrefix, f.AppendJSON)}
	s.sockFrames = append(s.sockFrames, k)
	s.grow(&s.sockBytes, k.bytes())
	for len(s.sockFrames) > MaxSocketFrames || s.sockBytes > MaxSocketFrameBytes && len(s.sockFrames) > 1 {
		s.popSocketFrame()
	}
	s.broadcast(k.frame.frame)
	s.mu.Unlock()
	s.grown()
}

// popSocketFrame forgets the oldest WebSocket frame. Called with s.mu held.
func (s *Session) popSocketFrame() {
	s.grow(&s.sockBytes, -s.sockFrames[0].bytes())
	s.sockFrames[0] = socketFrame{}
	s.sockFrames = s.sockFrames[1:]
}

// socketFramesSince is the kept WebSocket frames with seq > since. Called
// with s.mu held.
func (s *Session) socketFramesSince(since uint64) []socketFrame {
	i := sort.Search(len(s.sockFrames), func(i int) bool { return s.sockFrames[i].seq > since })
	return s.sockFrames[i:]
}

// SocketFrames returns the JSON of every kept WebSocket frame with
// seq > since, oldest first: capture.Frame's JSON.
func (s *Session) SocketFrames(since uint64) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.socketFramesSince(since)
	out := make([]json.RawMessage, len(list))
	for i := range list {
		out[i] = list[i].frame.json()
	}
	return out
}
