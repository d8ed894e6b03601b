package origins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/corslab/corslab/playground/session"
)

// The doors: what the api origin serves for the ways a page reaches
// another origin other than fetch(): <img> (and a canvas it taints),
// <script>, <link rel=stylesheet>, @font-face, EventSource and
// navigator.sendBeacon(). Each goes through withPolicy like every other
// api endpoint, so the learner's CORS headers apply to it, and each is
// small and fixed, so a page can tell from what it observes whether the
// browser let it through.

// The image: ImageWidth × ImageHeight pixels, which a page reads from
// naturalWidth and naturalHeight (an <img> shows a cross-origin image
// whatever CORS says; only reading its pixels from a canvas needs CORS).
const (
	ImageWidth  = 120
	ImageHeight = 60
)

// ScriptErrorMessage is the message of the error script.js throws. A page
// that loads the script from another origin without crossorigin sees only
// "Script error." in window.onerror (the error is muted,
// html.spec.whatwg.org/#muted-errors); with crossorigin, and CORS
// allowing it, the page sees this message. Firefox (ESR 153) departs: it
// shows this error unmuted either way (muting is a known interop gap,
// https://github.com/whatwg/html/issues/10514).
const ScriptErrorMessage = "corslab: thrown by the api's script"

// The stylesheet's probe: an element of class StyleProbeClass is
// StyleProbeWidth wide once style.css applied. A <link rel=stylesheet>
// applies a cross-origin sheet whatever CORS says; only reading its rules
// (sheet.cssRules) needs CORS.
const (
	StyleProbeClass = "corslab-door-probe"
	StyleProbeWidth = 123 // px
)

// SSE's bounds: /events sends eventCount events, eventGap apart, then
// ends the response. The gap is short so that the stream, and so its
// exchange, ends soon after a browser that refused it went away: the run
// can only claim an exchange that was recorded.
const (
	eventCount = 3
	eventGap   = 25 * time.Millisecond
)

// maxCollectBody bounds what /collect reads of a beacon.
const maxCollectBody = 64 << 10

// imagePNG is the image: two colour bands, blue over orange, encoded
// once. A two-colour palette keeps the file to a couple of hundred bytes.
var imagePNG = sync.OnceValue(func() []byte {
	blue := color.RGBA{0x1f, 0x6f, 0xd0, 0xff}
	orange := color.RGBA{0xf0, 0x8a, 0x24, 0xff}
	img := image.NewPaletted(image.Rect(0, 0, ImageWidth, ImageHeight), color.Palette{blue, orange})
	for y := ImageHeight / 2; y < ImageHeight; y++ {
		for x := range ImageWidth {
			img.SetColorIndex(x, y, 1)
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		panic("encoding the door image: " + err.Error()) // cannot happen: writing to memory
	}
	return b.Bytes()
})

// scriptJS is a classic script that throws at its top level, as soon as it
// runs.
const scriptJS = `// corslab's door script: it throws as soon as it runs.
// A page that loaded it from another origin without crossorigin sees only
// "Script error." in window.onerror: the browser mutes errors of scripts
// CORS did not vouch for (Chromium and Safari do; Firefox shows this one
// anyway). With <script crossorigin> and a CORS answer that allows the
// page's origin, the page sees the message below.
throw new Error("` + ScriptErrorMessage + `");
`

// styleCSS is a stylesheet whose one rule a page can measure.
func styleCSS() string {
	return fmt.Sprintf(`/* corslab's door stylesheet. An element of class %[1]s is
   %[2]dpx wide once this sheet applies. <link rel=stylesheet> applies it
   from any origin; reading document.styleSheets[i].cssRules of a
   cross-origin sheet needs crossorigin and CORS. */
.%[1]s { width: %[2]dpx; }
`, StyleProbeClass, StyleProbeWidth)
}

// assetHandler serves body, of type contentType, to GET and HEAD.
func assetHandler(contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			notAllowed(w, "GET, HEAD")
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}

// An sseEvent is what each of /events' events carries: its number, and
// the logged-in user's name, or null, so a page can see whether
// EventSource sent the login cookie (withCredentials).
type sseEvent struct {
	N    int     `json:"n"`
	User *string `json:"user"`
}

// eventsHandler is a short Server-Sent Events stream: retry, then
// eventCount events eventGap apart, flushed one by one, then the end of
// the response. An EventSource reconnects when a stream ends; "retry:
// 60000" makes it wait a minute first, so an open lab page does not
// hammer the api. It stops as soon as the client goes.
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
func eventsHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notAllowed(w, "GET")
		return
	}
	ev := sseEvent{User: loggedInUser(r)}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "retry: 60000\n\n")
	for n := 1; n <= eventCount; n++ {
		if n > 1 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(eventGap):
			}
		}
		ev.N = n
		data, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// loggedInUser is the username the request's login cookie belongs to, or
// nil.
func loggedInUser(r *http.Request) *string {
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		return nil
	}
	u, err := session.FromContext(r.Context()).Users.Whoami(c.Value)
	if err != nil {
		return nil
	}
	return &u.Username
}

// collectHandler is the "analytics" endpoint navigator.sendBeacon() posts
// to. A beacon never reads the answer: it reads and drops the body, at
// most maxCollectBody of it, and answers 204.
func collectHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		notAllowed(w, "POST")
		return
	}
	_, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxCollectBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than 64 KiB")
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
