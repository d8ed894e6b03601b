package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeCommand is a command as the fake remote end reads it.
type fakeCommand struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// fakeBiDi starts a fake BiDi remote end on loopback, whose one
// connection serve handles, and returns a client connected to it. Both
// end with t; serve should return once reading fails.
func fakeBiDi(t *testing.T, serve func(ws *websocket.Conn)) *bidiConn {
	t.Helper()
	served := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/session" {
			http.NotFound(w, r)
			return
		}
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer close(served)
		defer ws.Close()
		serve(ws)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dialBiDi(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/session")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		<-served // the handler may still use t until it returns
	})
	return c
}

// fakeReply answers cmd with a success whose result is result.
func fakeReply(ws *websocket.Conn, cmd fakeCommand, result any) error {
	return ws.WriteJSON(map[string]any{"type": "success", "id": cmd.ID, "result": result})
}

func bidiTestContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestBiDiMatchesIDs has concurrent calls answered in the reverse order:
// each must get its own result.
func TestBiDiMatchesIDs(t *testing.T) {
	const n = 8
	c := fakeBiDi(t, func(ws *websocket.Conn) {
		var cmds []fakeCommand
		for len(cmds) < n {
			var cmd fakeCommand
			if ws.ReadJSON(&cmd) != nil {
				return
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range slices.Backward(cmds) {
			// The result echoes the command's params.
			if fakeReply(ws, cmd, map[string]any{"echo": cmd.Params}) != nil {
				return
			}
		}
		for ws.ReadJSON(new(fakeCommand)) == nil {
		}
	})
	ctx := bidiTestContext(t)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r struct{ Echo struct{ I int } }
			if err := c.call(ctx, "test.echo", map[string]int{"i": i}, &r); err != nil || r.Echo.I != i {
				t.Errorf("call %d: got %d, %v", i, r.Echo.I, err)
			}
		})
	}
	wg.Wait()
}

// TestBiDiErrors checks that an error response becomes a *bidiError
// with its code and message, and that results that do not decode say so.
func TestBiDiErrors(t *testing.T) {
	c := fakeBiDi(t, func(ws *websocket.Conn) {
		for {
			var cmd fakeCommand
			if ws.ReadJSON(&cmd) != nil {
				return
			}
			var err error
			switch cmd.Method {
			case "test.fail":
				err = ws.WriteJSON(map[string]any{
					"type": "error", "id": cmd.ID,
					"error": "no such frame", "message": "Browsing context with id 42 not found",
					"stacktrace": "...",
				})
			default:
				err = fakeReply(ws, cmd, map[string]any{"n": "not a number"})
			}
			if err != nil {
				return
			}
		}
	})
	ctx := bidiTestContext(t)
	err := c.call(ctx, "test.fail", nil, nil)
	var be *bidiError
	if !errors.As(err, &be) || be.Method != "test.fail" || be.Code != "no such frame" || !strings.Contains(be.Message, "42 not found") {
		t.Errorf("an error response gave %#v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "42 not found") {
		t.Errorf("error text %v lacks the message", err)
	}
	var r struct{ N int }
	if err := c.call(ctx, "test.ok", nil, &r); err == nil || !strings.Contains(err.Error(), "decoding") {
		t.Errorf("a result of the wrong shape gave %v", err)
	}
	if err := c.call(ctx, "test.ok", nil, nil); err != nil {
		t.Errorf("a nil result: %v", err)
	}
}

// TestBiDiEvents checks that events go, in order, to the handler of
// their browsing context, found in params.context or
// params.source.context, and nowhere else.
func TestBiDiEvents(t *testing.T) {
	event := func(method, params string) map[string]any {
		return map[string]any{"type": "event", "method": method, "params": json.RawMessage(params)}
	}
	c := fakeBiDi(t, func(ws *websocket.Conn) {
		for {
			var cmd fakeCommand
			if ws.ReadJSON(&cmd) != nil {
				return
			}
			// Events before the answer: the client must have handed them
			// over by the time the call returns.
			for _, ev := range []map[string]any{
				event("browsingContext.load", `{"context":"A","n":1}`),
				event("log.entryAdded", `{"source":{"realm":"r","context":"B"},"n":2}`),
				event("log.entryAdded", `{"source":{"realm":"r","context":"C"},"n":3}`),
				event("log.entryAdded", `{"source":{"realm":"worker"},"n":4}`),
				event("log.entryAdded", `{"source":{"realm":"r","context":"A"},"n":5}`),
			} {
				if ws.WriteJSON(ev) != nil {
					return
				}
			}
			if fakeReply(ws, cmd, map[string]any{}) != nil {
				return
			}
		}
	})
	var mu sync.Mutex
	got := map[string][]string{}
	handler := func(id string) func(bidiEvent) {
		return func(ev bidiEvent) {
			var p struct{ N int }
			json.Unmarshal(ev.Params, &p)
			mu.Lock()
			got[id] = append(got[id], fmt.Sprintf("%s %d", ev.Method, p.N))
			mu.Unlock()
		}
	}
	stopA := c.on("A", handler("A"))
	c.on("B", handler("B"))
	ctx := bidiTestContext(t)
	if err := c.call(ctx, "test.events", nil, nil); err != nil {
		t.Fatal(err)
	}
	stopA()
	if err := c.call(ctx, "test.events", nil, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string][]string{
		"A": {"browsingContext.load 1", "log.entryAdded 5"},
		"B": {"log.entryAdded 2", "log.entryAdded 2"},
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("context %s got %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("events went to %v", got)
	}
}

// TestBiDiContext checks that a call returns when its context ends,
// without waiting for its answer, that the late answer harms no later
// call, and that a call with an ended context sends nothing.
func TestBiDiContext(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	c := fakeBiDi(t, func(ws *websocket.Conn) {
		var slow *fakeCommand
		for {
			var cmd fakeCommand
			if ws.ReadJSON(&cmd) != nil {
				return
			}
			mu.Lock()
			methods = append(methods, cmd.Method)
			mu.Unlock()
			if cmd.Method == "test.slow" {
				slow = &cmd // answered late, just before the next one
				continue
			}
			if slow != nil {
				if fakeReply(ws, *slow, map[string]any{"late": true}) != nil {
					return
				}
				slow = nil
			}
			if fakeReply(ws, cmd, map[string]any{"late": false}) != nil {
				return
			}
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if err := c.call(ctx, "test.slow", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled call gave %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a cancelled call took %v", d)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.call(ctx, "test.slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call past its deadline gave %v, want context.DeadlineExceeded", err)
	}

	var r struct{ Late bool }
	if err := c.call(bidiTestContext(t), "test.next", nil, &r); err != nil || r.Late {
		t.Errorf("the call after: late = %v, %v; want its own answer", r.Late, err)
	}

	if err := c.call(ctx, "test.never", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call with an ended context gave %v", err)
	}
	if err := c.call(bidiTestContext(t), "test.next", nil, nil); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(methods, "test.never") {
		t.Errorf("a call with an ended context was sent: %q", methods)
	}
}

// TestBiDiServerCloses checks that calls waiting when the remote end
// goes away, and calls after, fail at once, saying the connection closed;
// but that an answer sent just before the close (as browser.close's is)
// still counts.
func TestBiDiServerCloses(t *testing.T) {
	ctx := bidiTestContext(t)
	c := fakeBiDi(t, func(ws *websocket.Conn) {
		var cmd fakeCommand
		ws.ReadJSON(&cmd) // then close, unanswered
	})
	if err := c.call(ctx, "test.waiting", nil, nil); !errors.Is(err, errBiDiClosed) {
		t.Errorf("a waiting call gave %v, want errBiDiClosed", err)
	}
	start := time.Now()
	if err := c.call(ctx, "test.after", nil, nil); !errors.Is(err, errBiDiClosed) {
		t.Errorf("a call after the close gave %v, want errBiDiClosed", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a call after the close took %v", d)
	}

	c = fakeBiDi(t, func(ws *websocket.Conn) {
		var cmd fakeCommand
		if ws.ReadJSON(&cmd) == nil {
			fakeReply(ws, cmd, map[string]any{})
		}
	})
	if err := c.call(ctx, "test.bye", nil, nil); err != nil {
		t.Errorf("a call answered just before the close: %v", err)
	}
}

// TestFirefoxOutput checks that the BiDi address Firefox prints is found
// whatever the chunks its output comes in, and that the tail is kept.
func TestFirefoxOutput(t *testing.T) {
	text := "*** You are running in headless mode.\nWebDriver BiDi listening on ws://127.0.0.1:44125\nmore\n"
	for size := 1; size <= len(text); size++ {
		addrs := make(chan string, 1)
		o := &firefoxOutput{addr: addrs}
		for s := text; s != ""; {
			k := min(size, len(s))
			o.Write([]byte(s[:k]))
			s = s[k:]
		}
		select {
		case addr := <-addrs:
			if addr != "ws://127.0.0.1:44125" {
				t.Errorf("chunks of %d: address %q", size, addr)
			}
		default:
			t.Errorf("chunks of %d: no address", size)
		}
		if o.tail() != text {
			t.Errorf("chunks of %d: tail %q", size, o.tail())
		}
	}
	o := &firefoxOutput{addr: make(chan string, 1)}
	o.Write([]byte(strings.Repeat("x", 3*firefoxOutputTail) + "end"))
	if tail := o.tail(); len(tail) != firefoxOutputTail || !strings.HasSuffix(tail, "end") {
		t.Errorf("the tail of a long output: %d bytes ending %q", len(tail), tail[len(tail)-5:])
	}
}
