package playground

import (
	"fmt"
	"net/http"
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
// then live ones. A client that falls MaxSubscriberBytes behind is
// disconnected, and reconnects with the last seq it has, losing nothing the
// ring still holds.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	since, err := parseSince(r, "since", sess.LastSeq())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	runsSince, err := parseSince(r, "runsSince", uint64(sess.LastRun()))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	sub, backlog, err := s.teach.subscribe(sess, since, int(runsSince))
	if err == nil && watching(r) {
		// The read-only view is not the learner being online, and it may
		// have missed scenario changes while it was away.
		sess.Watchers.Add(1)
		defer sess.Watchers.Add(-1)
		backlog.Add(scenarioFrame(s.describe(r, sess)))
	}
	if err != nil {
		writeJSONError(w, http.StatusTooManyRequests, fmt.Sprintf("%s: at most %d pages may watch one session; close some tabs", err, session.MaxSubscribers))
		return
	}
	defer sess.Unsubscribe(sub)
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	if !s.openSocket() {
		writeFrame(conn, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "corslab is stopping"))
		return
	}
	defer s.sockets.Done()
	closed := readUntilClosed(conn)

	for frame := range backlog.All() {
		if !writeFrame(conn, websocket.TextMessage, frame) {
			return
		}
	}
	ping := time.NewTicker(wsPingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-sub.Ready:
			for frame, ok := sub.Next(); ok; frame, ok = sub.Next() {
				if !writeFrame(conn, websocket.TextMessage, frame) {
					return
				}
			}
		case <-sub.Gone:
			// Dropped for being slow, or the session or server is going
			// away: say so; the page reconnects with what it has.
			writeFrame(conn, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "reconnect with since"))
			return
		case <-ping.C:
			if !writeFrame(conn, websocket.PingMessage, nil) {
				return
			}
		case <-closed:
			return
		}
	}
}

// readUntilClosed reads the client's frames, which are only ever control
// frames, so that pongs are processed and a close is noticed: the returned
// channel is closed when the client has gone or stopped answering pings.
func readUntilClosed(conn *websocket.Conn) <-chan struct{} {
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
	return closed
}

// writeFrame writes one frame, giving up after wsWriteWait.
func writeFrame(conn *websocket.Conn, kind int, frame []byte) bool {
	conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
	return conn.WriteMessage(kind, frame) == nil
}
