package playground

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// maxAPIBody bounds what the JSON API reads: a scenario holds at most a
// 64 KiB request body, and a run a 16 KiB response excerpt.
const maxAPIBody = 256 << 10

type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session.Session)

// findSession returns the live session with the given id, or nil for an
// id that is malformed, unknown or expired.
func (s *Server) findSession(id string) *session.Session {
	if !session.ValidID(id) {
		return nil
	}
	return s.sessions.Get(id)
}

// peekSession is findSession without marking the session used.
func (s *Server) peekSession(id string) *session.Session {
	if !session.ValidID(id) {
		return nil
	}
	return s.sessions.Peek(id)
}

// watching reports whether r comes from the instructor's read-only view of
// a session: ?watch=1.
func watching(r *http.Request) bool { return r.URL.Query().Get("watch") == "1" }

// withSession looks up the {id} session, answering 404 when there is none.
// With ?watch=1 (the instructor's read-only view) the lookup does not mark
// the session used: watching must not keep a learner's session alive.
func (s *Server) withSession(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		find := s.findSession
		if watching(r) {
			find = s.peekSession
		}
		sess := find(id)
		if sess == nil {
			writeJSONError(w, http.StatusNotFound, "no such session: "+strconv.Quote(id)+" (sessions expire after "+s.idle()+" idle)")
			return
		}
		if !s.allowSession(w, r, UI, sess) {
			return
		}
		h(w, r, sess)
	})
}

// sessionJSON is how the API describes a session.
type sessionJSON struct {
	ID       string            `json:"id"`
	URL      string            `json:"url"`
	Origins  map[string]string `json:"origins"`
	Scenario scenario.Scenario `json:"scenario"`
	Query    string            `json:"query"`
	Score    session.Score     `json:"score"`
}

func (s *Server) describe(r *http.Request, sess *session.Session) sessionJSON {
	sc, _ := sess.Scenario()
	o := s.originsFor(r)
	query := sc.Query().Encode()
	page := o.lab(sess.ID, query)
	// A lesson's session is described relative to the lesson's start.
	if l := s.lesson(sess.Lesson); l != nil {
		query = sc.QueryFrom(s.lessonStart(r, l)).Encode()
		page = withQuery(o.url(UI)+lessonPath(false, l.Slug)+"/"+sess.ID, query)
	}
	return sessionJSON{
		ID:       sess.ID,
		URL:      page,
		Origins:  o.bases(sess.ID),
		Scenario: sc,
		Query:    query,
		Score:    sess.Score(),
	}
}

// POST /api/sessions, body: an optional (partial) scenario.
func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	sc, err := scenario.Decode(data)
	if err != nil {
		writeScenarioError(w, err)
		return
	}
	if sess := s.createSession(w, r, sc, "", ""); sess != nil {
		writeJSON(w, http.StatusCreated, s.describe(r, sess))
	}
}

// GET /api/sessions/{id}
func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	writeJSON(w, http.StatusOK, s.describe(r, sess))
}

// PUT /api/sessions/{id}/scenario: the whole scenario. Fields left out take
// their defaults. An invalid scenario changes nothing.
func (s *Server) handlePutScenario(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	sc, err := scenario.Decode(data)
	if err == nil {
		err = sess.SetScenario(sc)
	}
	if err != nil {
		writeScenarioError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.scenarioSet(r, sess))
}

// scenarioSet tells every page watching the session that its scenario is
// new (the instructor's read-only view of it, or the learner's other tab),
// and returns the session as they were told.
func (s *Server) scenarioSet(r *http.Request, sess *session.Session) sessionJSON {
	d := s.describe(r, sess)
	sess.Send(scenarioFrame(d))
	return d
}

// Pages of GET /exchanges and GET /runs: limit defaults to defaultPage and
// may go up to maxPage, so that no answer is built from a whole ring.
const (
	defaultPage = 100
	maxPage     = 500
)

// GET /api/sessions/{id}/exchanges?since=N&limit=M
func (s *Server) handleExchanges(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	since, err := parseSince(r, "since", sess.LastSeq())
	limit, lerr := parseLimit(r)
	if err = errors.Join(err, lerr); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, next := sess.ExchangesPage(since, limit)
	writePage(w, r, slices.Values(page), next)
}

// GET /api/sessions/{id}/runs?since=N&limit=M
func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	since, err := parseSince(r, "since", uint64(sess.LastRun()))
	limit, lerr := parseLimit(r)
	if err = errors.Join(err, lerr); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, next := sess.RunsPageSeq(int(since), limit)
	writePage(w, r, page, next)
}

// writePage answers a page of stored JSON documents as one array, written
// piece by piece rather than built in memory. When more follow (next is
// not 0), a Link header names the next page.
func writePage(w http.ResponseWriter, r *http.Request, page iter.Seq[json.RawMessage], next uint64) {
	if next != 0 {
		u := *r.URL
		q := u.Query()
		q.Set("since", strconv.FormatUint(next, 10))
		u.RawQuery = q.Encode()
		w.Header().Set("Link", "<"+u.RequestURI()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("["))
	first := true
	for doc := range page {
		if !first {
			w.Write([]byte(","))
		}
		first = false
		w.Write(doc)
	}
	w.Write([]byte("]\n"))
}

// newRun is what the lab page posts after the browser ran a request.
type newRun struct {
	Request scenario.Request `json:"request"`
	URL     string           `json:"url"`
	// Since is the newest exchange the page had seen when it started the
	// run; the run claims the exchanges recorded after it.
	Since   uint64          `json:"since"`
	Browser session.Browser `json:"browser"`
	// UserAgent picks the engine's browser table.
	UserAgent  string              `json:"userAgent"`
	Prediction *session.Prediction `json:"prediction"`
	// DocumentID names the runner document that ran the fetch (a page
	// load), for a browser whose preflight cache keeps an opaque origin's
	// entries per document (cors.Browser.OpaqueCachePerDocument).
	DocumentID string `json:"documentId"`
}

// Bounds on what a posted run may carry.
const (
	maxRunText    = 4 << 10
	maxRunBody    = 64 << 10
	maxRunHeaders = 100
)

func (n *newRun) validate() scenario.FieldErrors {
	sc := scenario.Default()
	sc.Request = n.Request
	errs := sc.Validate() // the api part is the default: only request.* can fail
	if errs == nil {
		errs = scenario.FieldErrors{}
	}
	if len(n.URL) > maxRunText {
		errs["url"] = fmt.Sprintf("at most %d bytes", maxRunText)
	}
	b := &n.Browser
	if len(b.Error) > maxRunText || len(b.URL) > maxRunText || len(b.Type) > 32 {
		errs["browser"] = fmt.Sprintf("error and url are at most %d bytes, type 32", maxRunText)
	}
	if len(b.Body) > maxRunBody {
		errs["browser.body"] = fmt.Sprintf("at most %d bytes; truncate it and set bodyTruncated", maxRunBody)
	}
	if len(b.Headers) > maxRunHeaders {
		errs["browser.headers"] = fmt.Sprintf("at most %d headers", maxRunHeaders)
	}
	if d := b.Door; d != nil && (len(d.Via) > 32 || len(d.Event) > 32 || len(d.Canvas) > 32 || len(d.Rules) > 32 || len(d.ScriptError) > maxRunText || len(d.Messages) > maxRunHeaders) {
		errs["browser.door"] = fmt.Sprintf("via, event, canvas and rules are at most 32 bytes, scriptError %d, and at most %d messages", maxRunText, maxRunHeaders)
	}
	if b.Status < 0 || b.Status > 999 {
		errs["browser.status"] = "must be 0 to 999"
	}
	if len(n.UserAgent) > maxRunText {
		errs["userAgent"] = fmt.Sprintf("at most %d bytes", maxRunText)
	}
	if !validDocumentID(n.DocumentID) {
		errs["documentId"] = "at most 32 lower-case letters and digits, or empty"
	}
	if p := n.Prediction; p != nil {
		switch p.Stage {
		case "", cors.StageRequest, cors.StagePreflight, cors.StageResponse, cors.StageRedirect:
		default:
			errs["prediction.stage"] = fmt.Sprintf("must be one of request, preflight, response, redirect or empty; got %q", p.Stage)
		}
		p.Correct = false // the server scores it
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validDocumentID: a runner's document id is short, and plain.
func validDocumentID(id string) bool {
	if len(id) > 32 {
		return false
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// POST /api/sessions/{id}/runs
func (s *Server) handleAddRun(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var n newRun
	if err := decodeRun(data, &n); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	errs := n.validate()
	if newest := sess.LastSeq(); n.Since > newest {
		if errs == nil {
			errs = scenario.FieldErrors{}
		}
		errs["since"] = fmt.Sprintf("must be from 0 to %d, the newest exchange this session has; got %d", newest, n.Since)
	}
	if errs != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": errs})
		return
	}
	_, doc := s.recordRun(r, sess, &n)
	writeRun(w, doc, sess.Score())
}

// recordRun keeps a posted run, explained under the session's scenario,
// for POST /runs and a step (handle_step.go); doc is its JSON.
func (s *Server) recordRun(r *http.Request, sess *session.Session, n *newRun) (run *session.Run, doc json.RawMessage) {
	sc, _ := sess.Scenario()
	run, doc = sess.AddExplainedRun(session.Run{URL: n.URL, Setup: sc.Setup, Request: n.Request, Browser: n.Browser, Prediction: n.Prediction}, n.Since, s.explainer(r, n))
	if len(run.Refused) == 0 { // corslab's refusal is no pass and no block
		s.teach.countRun(sess, run.Browser.OK)
	}
	return run, doc
}

// writeRun answers a new run: its JSON as the session keeps it and sends
// it to the session's pages, with the session's score added. Encoding the
// run once for both cost a tenth of POST /runs.
func writeRun(w http.ResponseWriter, run json.RawMessage, score session.Score) {
	var tail []byte
	tail = append(tail, `,"score":{"right":`...)
	tail = strconv.AppendInt(tail, int64(score.Right), 10)
	tail = append(tail, `,"total":`...)
	tail = strconv.AppendInt(tail, int64(score.Total), 10)
	tail = append(tail, "}}\n"...)
	fields := run[:len(run)-1] // the run without its closing brace
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(fields)+len(tail)))
	w.WriteHeader(http.StatusCreated)
	w.Write(fields)
	w.Write(tail)
}

// scenarioFrame is the session's scenario as a websocket frame.
func scenarioFrame(d sessionJSON) []byte {
	frame, _ := json.Marshal(struct {
		Type     string            `json:"type"`
		Scenario scenario.Scenario `json:"scenario"`
		Query    string            `json:"query"`
	}{"scenario", d.Scenario, d.Query})
	return frame
}

// parseSince reads a since parameter: a whole number from 0 to newest, the
// newest seq or id the session has given out; absent is 0.
func parseSince(r *http.Request, name string, newest uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s: must be a whole number from 0 to %d, got %q", name, newest, v)
	case n > newest:
		return 0, fmt.Errorf("%s: must be from 0 to %d, the newest this session has; got %d", name, newest, n)
	}
	return n, nil
}

// parseLimit reads the limit parameter of a page: 1 to maxPage, absent is
// defaultPage.
func parseLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultPage, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, fmt.Errorf("limit: must be a whole number from 1 to %d, got %q", maxPage, v)
	}
	return n, nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body := http.MaxBytesReader(w, r.Body, maxAPIBody)
	var data []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= maxAPIBody {
		// The usual case: a body of announced length, read into a buffer
		// of that size rather than one grown by doubling. net/http ends
		// the body there.
		data = make([]byte, n)
		_, err = io.ReadFull(body, data)
	} else {
		data, err = io.ReadAll(body)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d KiB", maxAPIBody>>10))
	case err != nil:
		// Most often the read timeout: a client that stalled half-way.
		writeJSONError(w, http.StatusRequestTimeout, "the body did not arrive whole: "+err.Error())
	default:
		return data, true
	}
	return nil, false
}

// decodeJSON decodes one JSON document into v, refusing unknown fields, and
// says where a malformed document broke. Text that is not UTF-8 is
// malformed too: encoding/json would keep U+FFFD in place of the bytes
// that were sent.
func decodeJSON(data []byte, v any) error {
	if err := scenario.CheckUTF8(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		if dec.More() {
			return errors.New("unexpected data after the JSON document")
		}
		return nil
	case errors.Is(err, io.EOF):
		return errors.New("the body is empty; send a JSON document")
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, err)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Errorf("line %d, column %d: %s: expected %s, got %s", line, col, typ.Field, typ.Type, typ.Value)
	default:
		return err
	}
}

// position turns a byte offset into a line and a column, both counting
// from 1; columns count characters, as scenario.DecodeError does.
func position(data []byte, off int64) (line, col int) {
	before := data[:min(off, int64(len(data)))]
	line = 1 + bytes.Count(before, []byte("\n"))
	return line, 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
}

func writeScenarioError(w http.ResponseWriter, err error) {
	var fields scenario.FieldErrors
	if errors.As(err, &fields) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": fields})
		return
	}
	var bucket *origins.BucketError
	if errors.As(err, &bucket) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": scenario.FieldErrors{"bucket.cors": bucket.Error()}})
		return
	}
	writeJSONError(w, http.StatusBadRequest, err.Error())
}

// writeJSON answers v as indented JSON, for people reading it with curl.
// (The answer to POST /runs, which only pages read, is the run's stored
// JSON: writeRun.)
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
