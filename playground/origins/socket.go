package origins

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// The WebSocket door: GET /{session}/socket. WebSocket has no CORS at all:
// the browser sends Origin and the session's cookies with the handshake
// whatever page opens the socket, and lets the page read every message.
// The server alone decides whom to answer, from the Origin header
// (datatracker.ietf.org/doc/html/rfc6455#section-10.2). With
// api.websocketOrigins "any" this endpoint checks nothing, so the evil
// origin's page can open it with the victim's login cookie and read the
// greeting: cross-site WebSocket hijacking.

// Bounds on one socket, and on how many are open: students attack corslab.
const (
	SocketMaxMessages     = 16      // each way; the greeting is the first the server sends
	SocketMaxMessageBytes = 4 << 10 // a bigger message closes the socket with 1009
	SocketLifetime        = 10 * time.Second
	maxSockets            = 256 // open at once on the api origin
	maxSessionSockets     = 8   // …of which one session's
	socketWriteWait       = 2 * time.Second
)

// socketLimits bounds the sockets open at once, in all and per session.
type socketLimits struct {
	max, perSession int
	lifetime        time.Duration

	mu     sync.Mutex
	open   int
	bySess map[string]int // only sessions with a socket open
}

func newSocketLimits(max, perSession int, lifetime time.Duration) *socketLimits {
	return &socketLimits{max: max, perSession: perSession, lifetime: lifetime, bySess: map[string]int{}}
}

// take reserves a socket for session id; it answers the status and message
// to refuse with when there is no room.
func (l *socketLimits) take(id string) (int, string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.max:
		return http.StatusServiceUnavailable, fmt.Sprintf("corslab has %d WebSockets open, its limit: try again in a few seconds (each closes after %s)", l.max, l.lifetime), false
	case l.bySess[id] >= l.perSession:
		return http.StatusTooManyRequests, fmt.Sprintf("this session has %d WebSockets open, its limit: close one, or wait (each closes after %s)", l.perSession, l.lifetime), false
	}
	l.open++
	l.bySess[id]++
	return 0, "", true
}

func (l *socketLimits) give(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.bySess[id]--; l.bySess[id] <= 0 {
		delete(l.bySess, id)
	}
}

// socketHandler serves GET /{session}/socket: a WebSocket that first sends
// a greeting with the logged-in user and their private notes, then echoes
// each text message, within the bounds above.
func socketHandler(limits *socketLimits) http.Handler {
	upgrader := websocket.Upgrader{
		ReadBufferSize:   1 << 10,
		WriteBufferSize:  8 << 10,
		HandshakeTimeout: socketWriteWait,
		// The Origin check is the scenario's (allowsHandshake), made
		// before upgrading. Gorilla's default would refuse every other
		// origin, and this endpoint exists to show what happens when a
		// server does not.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			writeError(w, status, reason.Error())
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			notAllowed(w, "GET")
			return
		}
		if !websocket.IsWebSocketUpgrade(r) {
			w.Header().Set("Upgrade", "websocket")
			writeError(w, http.StatusUpgradeRequired, `this endpoint speaks WebSocket: open it with new WebSocket("ws://…/socket"); the request had no "Connection: Upgrade" and "Upgrade: websocket"`)
			return
		}
		s := session.FromContext(r.Context())
		if msg, ok := allowsHandshake(r, s); !ok {
			writeError(w, http.StatusForbidden, msg)
			return
		}
		if status, msg, ok := limits.take(s.ID); !ok {
			writeError(w, status, msg)
			return
		}
		defer limits.give(s.ID)
		// The tap records each frame, both ways, raw, once the 101 is out.
		capture.TapWebSocket(r, s.RecordSocketFrame)
		conn, err := upgrader.Upgrade(hijacker{w}, r, nil)
		if err != nil {
			return // the upgrader has answered, or the connection is gone
		}
		defer conn.Close()
		serveSocket(conn, greeting(r, s), limits.lifetime)
	})
}

// allowsHandshake applies api.websocketOrigins to the handshake's Origin:
// "allowlist" accepts only an Origin the CORS allowlist matches under
// api.match (the rule of api.allowOrigin "allowlist"); anything else, "any"
// included, accepts every handshake.
func allowsHandshake(r *http.Request, s *session.Session) (string, bool) {
	sc, policy := s.Scenario()
	if sc.API.WebsocketOrigins != "allowlist" {
		return "", true
	}
	origin, ok := r.Header["Origin"]
	switch {
	case !ok || len(origin) == 0 || origin[0] == "":
		return `WebSocket handshake refused: api.websocketOrigins is "allowlist", and the handshake carried no Origin header (a browser always sends one)`, false
	case !policy.AllowsOrigin(origin[0]):
		return fmt.Sprintf(`WebSocket handshake refused: api.websocketOrigins is "allowlist", and the Origin %q matches no entry of api.allowlist under api.match %q. WebSocket has no CORS: this check is the server's own`, origin[0], sc.API.Match), false
	}
	return "", true
}

// hijacker lets the upgrader take the connection through the writers that
// wrap the server's (capture's among them), which unwrap but do not hijack.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// hello is the socket's first message.
type hello struct {
	Type string        `json:"type"` // "hello"
	User *session.User `json:"user"` // nil: the handshake carried no valid login cookie
	// Secret is what an attacker would want: the user's private notes,
	// made up from the session and the user.
	Secret *string `json:"secret"`
}

// greeting is the hello for the user the handshake's login cookie names,
// found as GET /me finds it.
func greeting(r *http.Request, s *session.Session) hello {
	g := hello{Type: "hello"}
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		return g
	}
	u, err := s.Users.Whoami(c.Value)
	if err != nil {
		return g
	}
	code := crc32.ChecksumIEEE([]byte(s.ID+"/"+u.Username)) % 10000
	secret := fmt.Sprintf("private notes of %s: my account recovery code is %s-%04d (made up by corslab)", u.Name, u.Username, code)
	g.User, g.Secret = &u, &secret
	return g
}

// echo answers a text message the page sent.
type echo struct {
	Type string `json:"type"` // "echo"
	Data string `json:"data"`
}

// socketError answers a binary message.
type socketError struct {
	Type  string `json:"type"` // "error"
	Error string `json:"error"`
}

// serveSocket sends first, then echoes each text message, until the page
// closes the socket, SocketMaxMessages have gone either way, or lifetime
// has passed. One goroutine reads and writes: gorilla answers pings and
// closes from inside the read, with its own concurrent-safe control writes.
func serveSocket(conn *websocket.Conn, first hello, lifetime time.Duration) {
	end := time.Now().Add(lifetime)
	conn.SetReadLimit(SocketMaxMessageBytes)
	conn.SetReadDeadline(end)
	send := func(v any) bool {
		msg, _ := json.Marshal(v) // not WriteJSON, which ends the message with a newline
		conn.SetWriteDeadline(earliest(end, time.Now().Add(socketWriteWait)))
		return conn.WriteMessage(websocket.TextMessage, msg) == nil
	}
	if !send(first) {
		return
	}
	sent, received := 1, 0
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			// Gorilla has answered the page's close, or refused a message
			// too big with 1009; a timeout is the lifetime's end.
			if isTimeout(err) {
				closeSocket(conn, websocket.CloseNormalClosure, "corslab closes each socket after "+lifetime.String())
			}
			return
		}
		received++
		var reply any = echo{Type: "echo", Data: string(data)}
		if kind != websocket.TextMessage {
			reply = socketError{Type: "error", Error: "this socket echoes text messages only; got a binary message of " + strconv.Itoa(len(data)) + " bytes"}
		}
		if !send(reply) {
			return
		}
		sent++
		if sent >= SocketMaxMessages || received >= SocketMaxMessages {
			closeSocket(conn, websocket.ClosePolicyViolation, fmt.Sprintf("corslab closes each socket after %d messages each way", SocketMaxMessages))
			// Wait a moment for the page's close, so that the log shows it.
			conn.SetReadDeadline(earliest(end, time.Now().Add(time.Second)))
			for {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
			}
		}
	}
}

// closeSocket sends a close frame with code and reason.
// datatracker.ietf.org/doc/html/rfc6455#section-7.1.2
func closeSocket(conn *websocket.Conn, code int, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(socketWriteWait))
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
