package playground

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A WebSocket handshake's HAR entry carries the socket's messages, both
// ways, as Chrome DevTools writes them.
func TestHARWebSocketMessages(t *testing.T) {
	srv := startServer(t, 10)
	sess := createSession(t, srv, "{}")
	api := "127.0.0.1:" + strconv.Itoa(srv.Port(API))
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+api+"/"+sess.ID+"/socket", http.Header{"Origin": {srv.testURL(Evil)}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err != nil { // the greeting
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("hi from evil")); err != nil {
		t.Fatal(err)
	}
	if _, echo, err := conn.ReadMessage(); err != nil || !strings.Contains(string(echo), "hi from evil") {
		t.Fatalf("echo %q, %v", echo, err)
	}
	conn.Close()

	var doc har
	waitFor(t, "the HAR to hold the socket's messages", func() bool {
		getJSON(t, srv.testURL(UI)+"/api/sessions/"+sess.ID+"/har", &doc)
		return len(doc.Log.Entries) == 1 && len(doc.Log.Entries[0].WebSocketMessages) >= 3
	})
	e := doc.Log.Entries[0]
	if e.Response.Status != 101 || e.ResourceType != "websocket" {
		t.Errorf("the handshake's entry: status %d, resource type %q", e.Response.Status, e.ResourceType)
	}
	m := e.WebSocketMessages
	if m[0].Type != "receive" || !strings.Contains(m[0].Data, `"hello"`) ||
		m[1].Type != "send" || m[1].Data != "hi from evil" || m[1].Opcode != 1 ||
		m[2].Type != "receive" || !strings.Contains(m[2].Data, "hi from evil") || m[2].Time < m[0].Time {
		t.Errorf("messages %+v", m)
	}
}
