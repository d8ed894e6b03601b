package session

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/scenario"
)

func socketFrameOf(payload string) *capture.Frame {
	return &capture.Frame{Exchange: 1, Origin: "api", Direction: capture.ClientToServer, Fin: true,
		Opcode: 1, OpcodeName: "text", Masked: true, Payload: payload, PayloadSize: int64(len(payload))}
}

// summary names a stream frame by its type and seq.
func summary(t *testing.T, frame []byte) string {
	t.Helper()
	var f struct {
		Type     string
		Exchange capture.Exchange
		Frame    capture.Frame
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		t.Fatalf("frame %s: %v", frame, err)
	}
	if f.Type == "websocket-frame" {
		return fmt.Sprintf("frame %d %q", f.Frame.Seq, f.Frame.Payload)
	}
	return fmt.Sprintf("%s %d", f.Type, f.Exchange.Seq)
}

// WebSocket frames take their seqs from the exchanges' counter, so a page
// that reconnects with since gets both, in the order they happened; the
// exchange list, runs and lookups by seq see exchanges only.
func TestSocketFramesShareTheSeqsAndReplayInOrder(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	s.Record(&capture.Exchange{}) // 1: the handshake
	s.RecordSocketFrame(socketFrameOf("hello"))
	s.RecordSocketFrame(socketFrameOf("again"))
	s.Record(&capture.Exchange{}) // 4
	s.Record(&capture.Exchange{}) // 5

	tests := []struct {
		since uint64
		want  string
	}{
		{0, `exchange 1, frame 2 "hello", frame 3 "again", exchange 4, exchange 5`},
		{1, `frame 2 "hello", frame 3 "again", exchange 4, exchange 5`},
		{2, `frame 3 "again", exchange 4, exchange 5`},
		{3, `exchange 4, exchange 5`},
		{5, ``},
	}
	for _, tt := range tests {
		sub, backlog, _ := s.Subscribe(tt.since, 0)
		s.Unsubscribe(sub)
		var got []string
		for f := range backlog.All() {
			got = append(got, summary(t, f))
		}
		if g := strings.Join(got, ", "); g != tt.want {
			t.Errorf("since %d: got %s, want %s", tt.since, g, tt.want)
		}
		if backlog.Len() != len(got) {
			t.Errorf("since %d: Len %d, %d frames", tt.since, backlog.Len(), len(got))
		}
	}

	var seqs []uint64
	for _, raw := range s.Exchanges(0) {
		var ex capture.Exchange
		json.Unmarshal(raw, &ex)
		seqs = append(seqs, ex.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 4, 5}) {
		t.Errorf("exchanges: seqs %v, want [1 4 5]", seqs)
	}
	if page, next := s.ExchangesPage(1, 1); len(page) != 1 || next != 4 {
		t.Errorf("a page of one after 1: %d, next %d", len(page), next)
	}
	if got := s.ExchangesBySeq([]uint64{5, 2, 1, 9}); len(got) != 2 {
		t.Errorf("by seq [5 2 1 9]: %d exchanges, want 2 (2 is a frame, 9 is none)", len(got))
	}
	if r := s.AddRun(Run{}, 1, nil); !slices.Equal(r.Exchanges, []uint64{4, 5}) {
		t.Errorf("a run after 1 claims %v, want [4 5]: frames are not exchanges", r.Exchanges)
	}
	if got := s.SocketFrames(2); len(got) != 1 || !strings.Contains(string(got[0]), `"payload":"again"`) {
		t.Errorf("frames after 2: %s", got)
	}
	if s.LastSeq() != 5 {
		t.Errorf("last seq %d, want 5", s.LastSeq())
	}

	// Live: a watching page gets each frame as it is recorded.
	sub, _, _ := s.Subscribe(s.LastSeq(), 0)
	defer s.Unsubscribe(sub)
	s.RecordSocketFrame(socketFrameOf("live"))
	<-sub.Ready
	if got := summary(t, takeAll(sub)[0]); got != `frame 6 "live"` {
		t.Errorf("live: %s", got)
	}
}

// The frames one session keeps are bounded in number and bytes, count
// against the budget, are shed with the oldest traffic, and are given back
// when the session goes.
func TestSocketFramesAreBoundedAndCounted(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	base := st.Budget().Used()
	big := strings.Repeat("x", capture.MaxFramePayload)
	for range MaxSocketFrames + 50 {
		s.RecordSocketFrame(socketFrameOf(big))
	}
	s.mu.Lock()
	n, bytes := len(s.sockFrames), s.sockBytes
	s.mu.Unlock()
	if n > MaxSocketFrames || bytes > MaxSocketFrameBytes {
		t.Errorf("kept %d frames of %d bytes; bounds %d, %d", n, bytes, MaxSocketFrames, MaxSocketFrameBytes)
	}
	if n < 100 {
		t.Errorf("kept only %d frames of 4 KiB", n)
	}
	if used := st.Budget().Used() - base; used != bytes {
		t.Errorf("the budget counts %d bytes, the frames hold %d", used, bytes)
	}
	for range 20 {
		s.RecordSocketFrame(socketFrameOf("small"))
	}
	s.dropOldest(1<<40, true)
	s.mu.Lock()
	n = len(s.sockFrames)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("shedding all but the newest left %d frames", n)
	}
	sub, backlog, _ := s.Subscribe(0, 0)
	s.Unsubscribe(sub)
	frames := slices.Collect(backlog.All())
	if last := string(frames[len(frames)-1]); !strings.Contains(last, "older traffic") {
		t.Errorf("a page asking for shed frames is not told: %s", last)
	}
	s.close()
	if used := st.Budget().Used(); used != 0 {
		t.Errorf("after the session went the budget counts %d bytes", used)
	}
}
