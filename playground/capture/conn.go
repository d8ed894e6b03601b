// Package capture records what really crossed the wire on a virtual origin:
// every request head in the order and letter case the client sent it, and
// every response head exactly as the server wrote it.
//
// Go's HTTP parser canonicalises header names and forgets their order, so the
// raw bytes are read off the connection itself: NewListener wraps each
// accepted connection in a tap that keeps the bytes read since the last
// request head, and collects the next response head as it is written. Once a
// 101 answer has switched the connection to WebSocket, the tap reads the
// frames that cross it instead, both ways, for a handler that asked
// (TapWebSocket, websocket.go).
package capture

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
)

// Limits on what one connection buffers. A request head is at most
// MaxHeaderBytes (the origins' http.Server must not allow more), and the
// buffer also holds Go's read-ahead and the unread tail of a body.
const (
	MaxHeaderBytes = 32 << 10
	maxBuffered    = 4*MaxHeaderBytes + 16<<10
)

// NewListener wraps l so that the connections it accepts can be captured.
// The http.Server using it must set ConnContext to ConnContext.
func NewListener(l net.Listener) net.Listener { return listener{l} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

type connKey struct{}

// ConnContext stores the tapped connection in the context of every request
// served on it. Use it as http.Server.ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

func connFrom(ctx context.Context) *conn {
	tc, _ := ctx.Value(connKey{}).(*conn)
	return tc
}

// conn is a tapped connection. The server reads from it in its connection
// goroutine and in a background reader, so the buffers are guarded by mu.
type conn struct {
	net.Conn

	mu sync.Mutex
	// in holds bytes read since the last request head was taken, less its
	// body when the head gave its length: the next head, then read-ahead.
	in []byte
	// skip is how much of the last request's body is still to come, to be
	// dropped as it is read. A body need not end a line, so the next
	// request line cannot be found by looking for a line start after it;
	// and a body may itself hold what looks like a request line.
	skip int64
	// waiting is the exchange whose response head is being written, if any.
	waiting *recording
	out     []byte // the part of the response head written so far
	// ws parses the frames once the connection switched to WebSocket, for
	// a handler that asked (TapWebSocket); nil before, and otherwise.
	ws *wsTap
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if ws := c.ws; ws != nil {
			c.mu.Unlock()
			ws.in.feed(p[:n])
			return n, err
		}
		b := p[:n]
		if c.skip > 0 {
			drop := min(c.skip, int64(len(b)))
			b, c.skip = b[drop:], c.skip-drop
		}
		c.in = appendBounded(c.in, b, maxBuffered)
		c.mu.Unlock()
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	var done *recording
	var head, rest []byte
	ws := c.ws
	if c.waiting != nil {
		var ok bool
		if head, rest, ok = c.collectHead(p); ok {
			done, c.waiting = c.waiting, nil
		}
	}
	c.mu.Unlock()
	frames := p // the bytes of p that are WebSocket frames, once ws is set
	if done != nil {
		ex := done.headWritten(head)
		if ex != nil && done.onFrame != nil && isWebSocketAccept(head) {
			// From here on the connection carries frames, both ways: the
			// client sends its first only once it has read this head.
			ws = newWSTap(ex, done.onFrame)
			frames = p[len(p)-min(len(rest), len(p)):]
			c.mu.Lock()
			c.ws, c.in = ws, c.in[:0]
			c.mu.Unlock()
		}
	}
	n, err := c.Conn.Write(p)
	if ws != nil {
		if sent := len(frames) - (len(p) - n); sent > 0 {
			ws.out.feed(frames[:sent])
		}
	}
	return n, err
}

func (c *conn) Close() error {
	c.mu.Lock()
	r := c.waiting
	c.waiting = nil
	c.mu.Unlock()
	if r != nil {
		// The connection closed before a response head was written (the
		// client went away, or the handler panicked). Publish what we know.
		r.connClosed()
	}
	return c.Conn.Close()
}

// takeRequestHead returns the raw head of the request whose request line is
// "method target HTTP/…", and forgets everything read up to its end and
// the body that follows when the head gives its Content-Length. Bytes
// before the head are the end of a previous body of unknown length
// (chunked bodies end a line, so the next head starts one).
func (c *conn) takeRequestHead(method, target string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := indexLine(c.in, method+" "+target+" HTTP/")
	if start < 0 {
		return nil
	}
	head, n := cutHead(c.in[start:])
	if head == nil {
		return nil
	}
	head = bytes.Clone(head)
	rest := c.in[start+n:]
	if size := bodySize(head); size > 0 {
		drop := min(size, int64(len(rest)))
		rest, c.skip = rest[drop:], size-drop
	}
	c.in = c.in[:copy(c.in, rest)]
	return head
}

// bodySize is the length of the body that follows head: its Content-Length,
// or 0 when it has none, or a Transfer-Encoding (which wins, RFC 9112
// section 6.3), or a value Go's server would refuse anyway.
func bodySize(head []byte) int64 {
	var size int64
	for line := range bytes.Lines(head) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			return 0
		case bytes.EqualFold(name, []byte("content-length")):
			n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
			if err != nil || n < 0 {
				return 0
			}
			size = n
		}
	}
	return size
}

// awaitResponse makes r the recording that receives the next response head
// written on c.
func (c *conn) awaitResponse(r *recording) {
	c.mu.Lock()
	c.waiting = r
	c.out = c.out[:0]
	c.mu.Unlock()
}

// collectHead appends p to the response head being written and reports the
// head once it is complete, with what followed it in p. Interim 1xx heads
// (100 Continue) are skipped; 101 Switching Protocols is not interim: the
// exchange ends with it (RFC 9110 section 15.2.2).
// Called with mu held.
func (c *conn) collectHead(p []byte) (head, rest []byte, ok bool) {
	for {
		c.out = appendBounded(c.out, p, MaxHeaderBytes)
		head, n := cutHead(c.out)
		if head == nil {
			return nil, nil, false
		}
		if !bytes.HasPrefix(head, []byte("HTTP/1.1 1")) && !bytes.HasPrefix(head, []byte("HTTP/1.0 1")) || isSwitch(head) {
			if isSwitch(head) {
				rest = bytes.Clone(c.out[n:]) // the new protocol's first bytes
			}
			head = bytes.Clone(head)
			c.out = c.out[:0]
			return head, rest, true
		}
		p = bytes.Clone(c.out[n:])
		c.out = c.out[:0]
	}
}

// indexLine returns the index of the first line of b that starts with
// prefix, or -1.
func indexLine(b []byte, prefix string) int {
	for off := 0; off < len(b); {
		if bytes.HasPrefix(b[off:], []byte(prefix)) {
			return off
		}
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return -1
		}
		off += nl + 1
	}
	return -1
}

// cutHead returns the message head at the start of b, blank line included,
// and its length; nil if b holds no complete head yet. HTTP/1.1 allows bare
// LF line endings, and Go's parser accepts them.
func cutHead(b []byte) ([]byte, int) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		if j := bytes.Index(b, []byte("\n\n")); j >= 0 && j < i {
			return b[:j+2], j + 2
		}
		return b[:i+4], i + 4
	}
	if j := bytes.Index(b, []byte("\n\n")); j >= 0 {
		return b[:j+2], j + 2
	}
	return nil, 0
}

// appendBounded appends p to b and keeps only the last max bytes.
func appendBounded(b, p []byte, max int) []byte {
	if len(p) >= max {
		return append(b[:0], p[len(p)-max:]...)
	}
	if over := len(b) + len(p) - max; over > 0 {
		b = b[:copy(b, b[over:])]
	}
	return append(b, p...)
}
