package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// bidiConn is a minimal WebDriver BiDi client
// (https://w3c.github.io/webdriver-bidi/): one websocket, commands matched
// to their responses by id, and events handed to whoever registered for
// their browsing context. It is safe for concurrent use.
type bidiConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one writer at a time

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]chan bidiMessage
	handlers map[string]func(bidiEvent) // by browsing context id

	done chan struct{} // closed when the reader stops
	err  error         // why it stopped, set before done is closed
}

// bidiMessage is any message from the remote end: a command's response
// (type "success" or "error", with its id) or an event (type "event").
type bidiMessage struct {
	Type string `json:"type"`
	ID   *int64 `json:"id"`

	Result json.RawMessage `json:"result"` // success

	Error   string `json:"error"` // error
	Message string `json:"message"`

	Method string          `json:"method"` // event
	Params json.RawMessage `json:"params"`
}

// bidiEvent is an event of a browsing context.
type bidiEvent struct {
	Method string
	Params json.RawMessage
}

// bidiError is an error the remote end returned for a command.
type bidiError struct {
	Method  string // the command
	Code    string // the spec's error code, such as "no such frame"
	Message string
}

func (e *bidiError) Error() string {
	return fmt.Sprintf("BiDi %s: %s: %s", e.Method, e.Code, e.Message)
}

// errBiDiClosed is wrapped by the errors of calls on a closed connection.
var errBiDiClosed = errors.New("BiDi connection closed")

// dialBiDi connects to a BiDi websocket, such as ws://127.0.0.1:PORT/session.
func dialBiDi(ctx context.Context, url string) (*bidiConn, error) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	// Results can be large (a page's JSON); the default of no read limit
	// is what we want, as the remote end is our own browser.
	c := &bidiConn{
		ws:       ws,
		pending:  map[int64]chan bidiMessage{},
		handlers: map[string]func(bidiEvent){},
		done:     make(chan struct{}),
	}
	go c.read()
	return c, nil
}

// read dispatches every message until the connection fails or closes.
func (c *bidiConn) read() {
	var err error
	for {
		var data []byte
		if _, data, err = c.ws.ReadMessage(); err != nil {
			break
		}
		var m bidiMessage
		if json.Unmarshal(data, &m) != nil {
			continue // not BiDi: there is no telling who would want it
		}
		switch {
		case m.Type == "event":
			c.dispatch(m)
		case m.ID != nil:
			c.mu.Lock()
			ch := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m // buffered: never blocks the reader
			}
			// Otherwise its caller gave up (its context ended): drop it.
		}
		// An error without an id answers a command too malformed to
		// have one; no caller waits for it.
	}
	c.mu.Lock()
	c.err = fmt.Errorf("%w: %v", errBiDiClosed, err)
	c.mu.Unlock()
	close(c.done)
}

// dispatch hands an event to the handler of its browsing context, found
// in params.context (browsingContext events) or params.source.context
// (log and script events).
func (c *bidiConn) dispatch(m bidiMessage) {
	var p struct {
		Context string `json:"context"`
		Source  struct {
			Context string `json:"context"`
		} `json:"source"`
	}
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	id := p.Context
	if id == "" {
		id = p.Source.Context
	}
	c.mu.Lock()
	h := c.handlers[id]
	c.mu.Unlock()
	if h != nil {
		// On the reader's goroutine, so events arrive in order; handlers
		// must be quick and must not call the connection.
		h(bidiEvent{m.Method, m.Params})
	}
}

// on makes h receive the events of browsing context id (to which the
// session must be subscribed), replacing any handler it had, until the
// returned function is called.
func (c *bidiConn) on(id string, h func(bidiEvent)) (remove func()) {
	c.mu.Lock()
	c.handlers[id] = h
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.handlers, id)
		c.mu.Unlock()
	}
}

// call sends the command method with params, waits for its response and
// decodes its result into result (which may be nil). An error response
// is a *bidiError. When ctx ends first, call returns ctx's error; the
// command may still run in the browser.
func (c *bidiConn) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("BiDi %s: %w", method, err)
	}
	ch := make(chan bidiMessage, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("BiDi %s: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}

	if err := c.write(ctx, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		forget()
		return fmt.Errorf("BiDi %s: %w", method, err)
	}

	select {
	case m := <-ch:
		return bidiResult(method, m, result)
	case <-ctx.Done():
		forget()
		return fmt.Errorf("BiDi %s: %w", method, ctx.Err())
	case <-c.done:
		// The answer may have come just before the end (browser.close
		// answers, then closes the connection).
		select {
		case m := <-ch:
			return bidiResult(method, m, result)
		default:
			return fmt.Errorf("BiDi %s: %w", method, c.err)
		}
	}
}

// bidiResult is the outcome of command method from its response m.
func bidiResult(method string, m bidiMessage, result any) error {
	if m.Type == "error" {
		return &bidiError{Method: method, Code: m.Error, Message: m.Message}
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(m.Result, result); err != nil {
		return fmt.Errorf("BiDi %s: decoding the result %.200s: %w", method, m.Result, err)
	}
	return nil
}

// write sends one command. A websocket write cannot be cancelled, only
// bounded: by ctx's deadline, if any. (One that times out leaves the
// connection unusable, but only a remote end that stopped reading makes
// a write wait at all.)
func (c *bidiConn) write(ctx context.Context, msg any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	deadline, _ := ctx.Deadline() // zero: none
	c.ws.SetWriteDeadline(deadline)
	return c.ws.WriteJSON(msg)
}

// Close closes the connection and waits for the reader to stop. Calls
// still waiting return errBiDiClosed.
func (c *bidiConn) Close() error {
	// A polite close frame first (gorilla allows it alongside a write);
	// the remote end may already be gone.
	c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	err := c.ws.Close()
	<-c.done
	return err
}
