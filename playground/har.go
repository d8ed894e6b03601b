package playground

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the subset
// Chrome DevTools reads when it imports a file. Fields that start with "_"
// are corslab's own, which the format allows.
type har struct {
	Log harLog `json:"log"`
}

type harLog struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	Seq             uint64      `json:"_corslabSeq"`
	Origin          string      `json:"_corslabOrigin"`
	Kind            string      `json:"_corslabKind"`
	// A WebSocket handshake's entry carries the socket's messages, as
	// Chrome DevTools writes and reads them.
	ResourceType      string       `json:"_resourceType,omitempty"`
	WebSocketMessages []harMessage `json:"_webSocketMessages,omitempty"`
}

// harMessage is one WebSocket frame: send (the page's) or receive, its
// time in seconds since 1970, and its payload as text.
type harMessage struct {
	Type   string  `json:"type"`
	Time   float64 `json:"time"`
	Opcode int     `json:"opcode"`
	Data   string  `json:"data"`
}

// socketMessages groups the session's kept WebSocket frames by the seq of
// their handshake.
func socketMessages(sess *session.Session) map[uint64][]harMessage {
	out := map[uint64][]harMessage{}
	for _, raw := range sess.SocketFrames(0) {
		var f struct {
			Exchange  uint64    `json:"exchange"`
			Direction string    `json:"direction"`
			At        time.Time `json:"at"`
			Opcode    int       `json:"opcode"`
			Payload   string    `json:"payload"`
		}
		if json.Unmarshal(raw, &f) != nil {
			continue
		}
		kind := "receive"
		if f.Direction == "client-to-server" {
			kind = "send"
		}
		out[f.Exchange] = append(out[f.Exchange], harMessage{Type: kind, Time: float64(f.At.UnixNano()) / 1e9, Opcode: f.Opcode, Data: f.Payload})
	}
	return out
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int64        `json:"bodySize"`
}

type harResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Cookies     []harNV    `json:"cookies"`
	Headers     []harNV    `json:"headers"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int64      `json:"bodySize"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

type harContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Encoding string `json:"encoding,omitempty"`
}

type harTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// harBuilders is how many HAR files corslab builds at once, and
// harWriteTimeout how long one may take to go out (a full ring's HAR is
// about 20 MiB).
const (
	harBuilders     = 2
	harWriteTimeout = 20 * time.Second
)

// GET /api/sessions/{id}/har: the session's exchanges as a HAR file. It is
// written entry by entry, so that a full ring never becomes one document
// in memory.
//
// Building one decodes the session's whole ring, tens of milliseconds of
// CPU, so only harBuilders are built at once: a client asking in a loop
// cannot take the machine from the class.
func (s *Server) handleHAR(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	select {
	case s.harSlots <- struct{}{}:
		defer func() { <-s.harSlots }()
		// A client that reads slowly must not hold the slot either.
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(harWriteTimeout))
	default:
		w.Header().Set("Retry-After", "2")
		writeJSONError(w, http.StatusServiceUnavailable, "corslab is building other HAR files right now; try again in a moment")
		return
	}
	head, _ := json.Marshal(harLog{Version: "1.2", Creator: harCreator{Name: "corslab", Version: "1"}, Entries: []harEntry{}})
	head = bytes.TrimSuffix(head, []byte(`[]}`)) // the entries follow
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="corslab-`+sess.ID+`.har"`)
	w.Write([]byte(`{"log":`))
	w.Write(head)
	w.Write([]byte("[\n"))
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	first := true
	messages := socketMessages(sess)
	for _, raw := range sess.Exchanges(0) {
		var ex capture.Exchange
		if err := json.Unmarshal(raw, &ex); err != nil {
			s.log.Error("decoding a stored exchange", "err", err)
			continue
		}
		if !first {
			w.Write([]byte(","))
		}
		first = false
		entry := harEntryOf(&ex)
		if ex.Response.Status == http.StatusSwitchingProtocols {
			entry.ResourceType, entry.WebSocketMessages = "websocket", messages[ex.Seq]
		}
		enc.Encode(entry)
	}
	w.Write([]byte("]}}\n"))
}

func harEntryOf(ex *capture.Exchange) harEntry {
	host, _ := ex.Request.Header("Host")
	u := "http://" + host + ex.Request.Target
	req := harRequest{
		Method: ex.Request.Method, URL: u, HTTPVersion: ex.Request.Proto,
		Cookies: []harNV{}, Headers: harHeaders(ex.Request.Headers), QueryString: []harNV{},
		HeadersSize: headSize(ex.Raw.Request), BodySize: ex.Request.BodySize,
	}
	if parsed, err := url.Parse(u); err == nil {
		for name, values := range parsed.Query() {
			for _, v := range values {
				req.QueryString = append(req.QueryString, harNV{name, v})
			}
		}
	}
	if ex.Request.BodySize > 0 {
		ct, _ := ex.Request.Header("Content-Type")
		req.PostData = &harPostData{MimeType: ct, Text: ex.Request.Body}
	}
	ct, _ := ex.Response.Header("Content-Type")
	location, _ := ex.Response.Header("Location")
	resp := harResponse{
		Status: ex.Response.Status, StatusText: ex.Response.Reason, HTTPVersion: ex.Response.Proto,
		Cookies: []harNV{}, Headers: harHeaders(ex.Response.Headers),
		Content: harContent{
			Size: ex.Response.BodySize, MimeType: ct,
			Text: ex.Response.Body, Encoding: ex.Response.BodyEncoding,
		},
		RedirectURL: location,
		HeadersSize: headSize(ex.Raw.Response), BodySize: ex.Response.BodySize,
	}
	return harEntry{
		StartedDateTime: ex.Start.UTC().Format(time.RFC3339Nano),
		Time:            ex.DurationMs,
		Request:         req,
		Response:        resp,
		Timings:         harTimings{Wait: ex.DurationMs},
		Seq:             ex.Seq, Origin: ex.Origin, Kind: ex.Kind,
	}
}

func harHeaders(h [][2]string) []harNV {
	out := make([]harNV, len(h))
	for i, kv := range h {
		out[i] = harNV{kv[0], kv[1]}
	}
	return out
}

// headSize is the size of the head at the start of a raw message, or -1.
func headSize(raw string) int {
	if i := strings.Index(raw, "\r\n\r\n"); i >= 0 {
		return i + 4
	}
	return -1
}
