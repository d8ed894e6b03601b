package probe

import (
	"bytes"
	"net"
	"strings"
	"sync"
)

// tape records the bytes a connection wrote and read, up to a bound: the
// heads are what the probe shows, the bodies it takes from net/http.
type tape struct {
	mu        sync.Mutex
	sent, got []byte
}

// tapeLimit bounds each side of a tape: enough for the heads (net/http
// refuses a longer response head) and the start of a body.
const tapeLimit = 2 * maxHead

func (t *tape) record(side *[]byte, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := tapeLimit - len(*side); room > 0 {
		*side = append(*side, p[:min(room, len(p))]...)
	}
}

// heads returns the request head and the final response head, each with
// its ending empty line. Interim 1xx responses before the final one are
// skipped; a side with no complete head comes back as recorded.
func (t *tape) heads() (request, response string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	request = string(cutHead(t.sent))
	got := t.got
	for {
		head := cutHead(got)
		if !interim(head) || len(head) == len(got) {
			return request, string(head)
		}
		got = got[len(head):]
	}
}

// cutHead is b up to and including the empty line that ends a head.
func cutHead(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[:i+4]
	}
	return b
}

// interim reports whether a response head is a 1xx other than 101.
func interim(head []byte) bool {
	return len(head) > 12 && bytes.HasPrefix(head, []byte("HTTP/1.")) && head[9] == '1' && !bytes.HasPrefix(head[9:], []byte("101"))
}

// tapedConn is a connection whose traffic goes on a tape.
type tapedConn struct {
	net.Conn
	tape *tape
}

func (c *tapedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tape.record(&c.tape.got, p[:n])
	return n, err
}

func (c *tapedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.tape.record(&c.tape.sent, p[:n])
	return n, err
}

// parseHead cuts a raw head into its header list, in wire order and
// letter case; the start line is left out.
func parseHead(head string) [][2]string {
	lines := strings.Split(strings.TrimRight(head, "\r\n"), "\n")
	out := make([][2]string, 0, len(lines))
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
		if ok {
			out = append(out, [2]string{name, strings.TrimSpace(value)})
		}
	}
	return out
}
