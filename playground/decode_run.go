package playground

import (
	"encoding/json"
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// decodeRun decodes a posted run. The documents pages send are read in one
// pass straight into newRun (runDecoder); anything else goes to decodeJSON,
// and so do its errors: a byte that is not UTF-8, an unknown field, null, a
// value of the wrong type are refused exactly as before, naming the line,
// the column and the field. encoding/json stays the reference:
// TestDecodeRunMatchesEncodingJSON and FuzzDecodeRun hold the fast path to
// its results.
//
// Decoding with encoding/json's reflection was a tenth of POST /runs.
func decodeRun(data []byte, n *newRun) error {
	d := runDecoder{data: string(data)}
	n.reset()
	if d.run(n) {
		return nil
	}
	n.reset()
	return decodeJSON(data, n)
}

// reset empties n, but for the door fields a run from a page older than
// request.via leaves out: such a page ran fetch().
func (n *newRun) reset() {
	*n = newRun{}
	scenario.FetchDoor(&n.Request)
}

// runDecoder reads a run in UTF-8 whose every key is a newRun field's JSON
// name (or a request header's), spelled exactly, without escapes, and
// given once, and whose every value has the field's type: no null, no
// number out of range. On anything else, or on a document that is not
// JSON, it gives up (bad is set; what it read is then of no use) and
// leaves the document to encoding/json, which accepts a few more (keys in
// another case, null left as zero) and words the errors.
//
// The strings it reads are cut from data, a copy of the request body: a
// run lives no longer than its request, until its frame is encoded.
type runDecoder struct {
	data string
	off  int
	bad  bool
}

func (d *runDecoder) run(n *newRun) bool {
	if !utf8.ValidString(d.data) {
		return false
	}
	var seen fieldSet
	for key := range d.object() {
		switch key {
		case "request":
			d.request(&n.Request)
		case "url":
			d.string(&n.URL)
		case "since":
			d.uint(&n.Since)
		case "browser":
			d.browser(&n.Browser)
		case "userAgent":
			d.string(&n.UserAgent)
		case "prediction":
			n.Prediction = new(session.Prediction)
			d.prediction(n.Prediction)
		case "documentId":
			d.string(&n.DocumentID)
		default:
			d.bad = true
		}
		d.once(&seen, key)
	}
	d.space()
	return !d.bad && d.off == len(d.data)
}

func (d *runDecoder) request(r *scenario.Request) {
	var seen fieldSet
	for key := range d.object() {
		switch key {
		case "from":
			d.string(&r.From)
		case "lookalikeHost":
			d.string(&r.LookalikeHost)
		case "target":
			d.string(&r.Target)
		case "method":
			d.string(&r.Method)
		case "path":
			d.string(&r.Path)
		case "headers":
			r.Headers = map[string]string{}
			for name := range d.object() {
				if _, twice := r.Headers[name]; twice {
					d.bad = true
				}
				var value string
				d.string(&value)
				r.Headers[name] = value
			}
		case "body":
			d.string(&r.Body)
		case "credentials":
			d.string(&r.Credentials)
		case "mode":
			d.string(&r.Mode)
		case "redirect":
			d.string(&r.Redirect)
		case "via":
			d.string(&r.Via)
		case "crossOrigin":
			d.string(&r.CrossOrigin)
		case "withCredentials":
			d.bool(&r.WithCredentials)
		case "enctype":
			d.string(&r.Enctype)
		default:
			d.bad = true
		}
		d.once(&seen, key)
	}
}

func (d *runDecoder) browser(b *session.Browser) {
	var seen fieldSet
	for key := range d.object() {
		switch key {
		case "ok":
			d.bool(&b.OK)
		case "status":
			d.int(&b.Status)
		case "error":
			d.string(&b.Error)
		case "type":
			d.string(&b.Type)
		case "redirected":
			d.bool(&b.Redirected)
		case "url":
			d.string(&b.URL)
		case "headers":
			b.Headers = [][2]string{}
			for range d.array() {
				var h [2]string
				i := 0
				for range d.array() {
					if i == len(h) {
						d.bad = true // encoding/json drops the rest; leave that to it
						break
					}
					d.string(&h[i])
					i++
				}
				if i < len(h) {
					d.bad = true
				}
				b.Headers = append(b.Headers, h)
			}
		case "body":
			d.string(&b.Body)
		case "bodyTruncated":
			d.bool(&b.BodyTruncated)
		case "headersTruncated":
			d.bool(&b.HeadersTruncated)
		case "durationMs":
			d.float(&b.DurationMs)
		case "door":
			b.Door = new(session.Door)
			d.door(b.Door)
		default:
			d.bad = true
		}
		d.once(&seen, key)
	}
}

func (d *runDecoder) door(o *session.Door) {
	var seen fieldSet
	for key := range d.object() {
		switch key {
		case "via":
			d.string(&o.Via)
		case "event":
			d.string(&o.Event)
		case "width":
			d.int(&o.Width)
		case "height":
			d.int(&o.Height)
		case "canvas":
			d.string(&o.Canvas)
		case "scriptError":
			d.string(&o.ScriptError)
		case "rules":
			d.string(&o.Rules)
		case "applied":
			d.bool(&o.Applied)
		case "messages":
			o.Messages = []string{}
			for range d.array() {
				var m string
				d.string(&m)
				o.Messages = append(o.Messages, m)
			}
		case "closeCode":
			d.int(&o.CloseCode)
		default:
			d.bad = true
		}
		d.once(&seen, key)
	}
}

func (d *runDecoder) prediction(p *session.Prediction) {
	var seen fieldSet
	for key := range d.object() {
		switch key {
		case "ok":
			d.bool(&p.OK)
		case "stage":
			d.string(&p.Stage)
		case "correct":
			d.bool(&p.Correct)
		default:
			d.bad = true
		}
		d.once(&seen, key)
	}
}

// fieldSet holds the keys an object gave, up to 16 of them; more give up.
type fieldSet struct {
	keys [16]string
	n    int
}

// once gives up when key came before.
func (d *runDecoder) once(seen *fieldSet, key string) {
	if seen.n == len(seen.keys) || slices.Contains(seen.keys[:seen.n], key) {
		d.bad = true
		return
	}
	seen.keys[seen.n] = key
	seen.n++
}

// object reads {"key": value, …}: it yields each key with the reader at its
// value, which the loop's body must read. It stops when the decoder gives
// up.
func (d *runDecoder) object() iter.Seq[string] {
	return func(yield func(string) bool) {
		if !d.next('{') {
			d.bad = true
			return
		}
		if d.next('}') {
			return
		}
		for !d.bad {
			key, ok := d.key()
			if !ok || !d.next(':') {
				d.bad = true
				return
			}
			if !yield(key) || d.bad {
				return
			}
			if d.next('}') {
				return
			}
			if !d.next(',') {
				d.bad = true
			}
		}
	}
}

// array reads [value, …]: it yields once per value, which the loop's body
// must read. It stops when the decoder gives up.
func (d *runDecoder) array() iter.Seq[struct{}] {
	return func(yield func(struct{}) bool) {
		if !d.next('[') {
			d.bad = true
			return
		}
		if d.next(']') {
			return
		}
		for !d.bad {
			if !yield(struct{}{}) || d.bad {
				return
			}
			if d.next(']') {
				return
			}
			if !d.next(',') {
				d.bad = true
			}
		}
	}
}

// next skips white space and reads c, if c comes next.
func (d *runDecoder) next(c byte) bool {
	d.space()
	if d.off < len(d.data) && d.data[d.off] == c {
		d.off++
		return true
	}
	return false
}

// space skips JSON's white space (RFC 8259, 2).
func (d *runDecoder) space() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

// key reads an object's key: a string without escapes.
func (d *runDecoder) key() (string, bool) {
	if !d.next('"') {
		return "", false
	}
	start := d.off
	for ; d.off < len(d.data); d.off++ {
		switch c := d.data[d.off]; {
		case c == '"':
			d.off++
			return d.data[start : d.off-1], true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (d *runDecoder) string(s *string) {
	if !d.next('"') {
		d.bad = true
		return
	}
	start, escaped := d.off-1, false
	for ; d.off < len(d.data); d.off++ {
		switch c := d.data[d.off]; {
		case c == '\\':
			escaped = true
			d.off++ // the escaped character cannot end the string
		case c == '"':
			d.off++
			if !escaped {
				*s = d.data[start+1 : d.off-1]
				return
			}
			// Escapes, \u surrogates included, as encoding/json reads them.
			if json.Unmarshal([]byte(d.data[start:d.off]), s) != nil {
				d.bad = true
			}
			return
		case c < 0x20:
			d.bad = true // a control character must be escaped
			return
		}
	}
	d.bad = true
}

func (d *runDecoder) bool(b *bool) {
	d.space()
	switch rest := d.data[d.off:]; {
	case strings.HasPrefix(rest, "true"):
		*b = true
		d.off += len("true")
	case strings.HasPrefix(rest, "false"):
		*b = false
		d.off += len("false")
	default:
		d.bad = true
	}
}

// number reads a JSON number (RFC 8259, 6) and returns its text.
func (d *runDecoder) number() string {
	d.space()
	start := d.off
	d.skip('-')
	if !d.skip('0') && d.digits() == 0 {
		d.bad = true
	}
	if d.skip('.') && d.digits() == 0 {
		d.bad = true
	}
	if d.skip('e') || d.skip('E') {
		if !d.skip('+') {
			d.skip('-')
		}
		if d.digits() == 0 {
			d.bad = true
		}
	}
	return d.data[start:d.off]
}

func (d *runDecoder) skip(c byte) bool {
	if d.off < len(d.data) && d.data[d.off] == c {
		d.off++
		return true
	}
	return false
}

func (d *runDecoder) digits() int {
	start := d.off
	for d.off < len(d.data) && '0' <= d.data[d.off] && d.data[d.off] <= '9' {
		d.off++
	}
	return d.off - start
}

// uint, int and float take what encoding/json takes for the type: a number
// strconv parses whole, in range.
func (d *runDecoder) uint(u *uint64) {
	v, err := strconv.ParseUint(d.number(), 10, 64)
	*u, d.bad = v, d.bad || err != nil
}

func (d *runDecoder) int(i *int) {
	v, err := strconv.ParseInt(d.number(), 10, strconv.IntSize)
	*i, d.bad = int(v), d.bad || err != nil
}

func (d *runDecoder) float(f *float64) {
	v, err := strconv.ParseFloat(d.number(), 64)
	*f, d.bad = v, d.bad || err != nil
}
