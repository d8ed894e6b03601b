package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// frameHead is what a learner needs from a websocket frame: its type, and
// an exchange's seq and start or a run's id.
type frameHead struct {
	Type  string
	Seq   uint64    // exchange frames
	Start time.Time // exchange frames: when the request reached the server
	RunID int64     // run frames
}

// parseFrame reads a frame's head. Exchange frames carry the whole raw
// exchange, kilobytes of it; decoding all of that for every frame would
// make the load generator compete with the server for CPU on a small
// machine. So quickHead reads only the first few JSON tokens, and the full
// decoder is the fallback for a frame laid out differently.
func parseFrame(data []byte) (frameHead, error) {
	if h, ok := quickHead(data); ok {
		return h, nil
	}
	var f struct {
		Type     string `json:"type"`
		Exchange struct {
			Seq   uint64    `json:"seq"`
			Start time.Time `json:"start"`
		} `json:"exchange"`
		Run struct {
			ID int64 `json:"id"`
		} `json:"run"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return frameHead{}, err
	}
	return frameHead{Type: f.Type, Seq: f.Exchange.Seq, Start: f.Exchange.Start, RunID: f.Run.ID}, nil
}

// quickHead decodes frames that start as the server writes them:
//
//	{"type":"exchange","exchange":{"seq":7,"origin":…,"kind":…,"client":…,"start":"…",…
//	{"type":"run","run":{"id":3,…
//	{"type":"scenario",…   (and any other type, which needs nothing more)
//
// reading tokens only until it has the fields it needs. It reports false
// when the frame looks different.
func quickHead(data []byte) (frameHead, bool) {
	var h frameHead
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return h, false
	}
	if tok, err := dec.Token(); err != nil || tok != "type" {
		return h, false
	}
	tok, err := dec.Token()
	if err != nil {
		return h, false
	}
	h.Type, _ = tok.(string)
	if h.Type != "exchange" && h.Type != "run" {
		return h, h.Type != ""
	}
	// The object named after the type: {"exchange": {…}} or {"run": {…}}.
	if tok, err := dec.Token(); err != nil || tok != h.Type {
		return h, false
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return h, false
	}
	var haveSeq, haveStart bool
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return h, false
		}
		val, err := dec.Token()
		if err != nil {
			return h, false
		}
		if _, nested := val.(json.Delim); nested {
			return h, false // an object or array before the fields we need
		}
		switch {
		case h.Type == "run" && key == "id":
			n, ok := val.(json.Number)
			if !ok {
				return h, false
			}
			h.RunID, err = n.Int64()
			return h, err == nil
		case h.Type == "exchange" && key == "seq":
			n, ok := val.(json.Number)
			if !ok {
				return h, false
			}
			h.Seq, err = strconv.ParseUint(n.String(), 10, 64)
			haveSeq = err == nil
		case h.Type == "exchange" && key == "start":
			s, ok := val.(string)
			if !ok {
				return h, false
			}
			h.Start, err = time.Parse(time.RFC3339Nano, s)
			haveStart = err == nil
		}
		if haveSeq && haveStart {
			return h, true
		}
	}
	return h, false
}
