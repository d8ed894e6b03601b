package playground

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/session"
)

const (
	wsWriteWait  = 10 * time.Second
	wsPongWait   = 60 * time.Second
	wsPingPeriod = wsPongWait * 9 / 10
)

// upgrader keeps gorilla's default CheckOrigin: only pages of the UI origin
// itself may open the socket.
var upgrader = websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 8 << 10}

// GET /api/sessions/{id}/ws?since=N&runsSince=M streams the session's
// exchanges and runs: first those after since and runsSince from the rings,
// then live ones. A client that falls SubscriberBuffer frames behind is
// disconnected, and reconnects with the last seq it has, losing nothing the
// ring still holds.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	since, err := parseSince(r, "since")
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	runsSince, err := strconv.Atoi(r.URL.Query().Get("runsSince"))
	if err != nil && r.URL.Query().Has("runsSince") {
		writeJSONError(w, http.StatusBadRequest, "runsSince: must be a whole number")
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()

	sub, backlog := sess.Subscribe(since, runsSince)
	defer sess.Unsubscribe(sub)

	// The client sends nothing but control frames; reading is still needed
	// to process pongs and notice a close.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		conn.SetReadLimit(512)
		conn.SetReadDeadline(time.Now().Add(wsPongWait))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsPongWait)) })
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	write := func(kind int, frame []byte) bool {
		conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		return conn.WriteMessage(kind, frame) == nil
	}
	for _, frame := range backlog {
		if !write(websocket.TextMessage, frame) {
			return
		}
	}
	ping := time.NewTicker(wsPingPeriod)
	defer ping.Stop()
	for {
		select {
		case frame := <-sub.Frames:
			if !write(websocket.TextMessage, frame) {
				return
			}
		case <-sub.Gone:
			// Dropped for being slow, or the session or server is going
			// away: say so; the page reconnects with what it has.
			write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "reconnect with since"))
			return
		case <-ping.C:
			if !write(websocket.PingMessage, nil) {
				return
			}
		case <-closed:
			return
		}
	}
}
