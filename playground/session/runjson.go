package session

import (
	"slices"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/jsonw"
	"github.com/corslab/corslab/playground/scenario"
)

// appendJSON appends r as JSON, exactly as encoding/json would write it
// without HTML escaping (TestRunJSONMatchesEncodingJSON fills every field
// to check), without its reflection: every run posted is encoded once,
// for its frame and its answer.
func (r *Run) appendJSON(b []byte) []byte {
	b = jsonw.Int(jsonw.Key(append(b, '{'), "id"), int64(r.ID))
	b = jsonw.Time(jsonw.Key(b, "at"), r.At)
	b = jsonw.String(jsonw.Key(b, "url"), r.URL)
	b = jsonw.String(jsonw.Key(b, "setup"), r.Setup)
	b = appendRequest(jsonw.Key(b, "request"), &r.Request)
	b = r.Browser.appendJSON(jsonw.Key(b, "browser"))
	b = jsonw.Key(b, "exchanges")
	if r.Exchanges == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range r.Exchanges {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.Uint(b, id)
		}
		b = append(b, ']')
	}
	b = jsonw.Key(b, "verdict")
	if v := r.Verdict; v == nil {
		b = append(b, "null"...)
	} else {
		b = appendVerdict(b, &v.Verdict)
		b = jsonw.Bool(jsonw.Key(b[:len(b)-1], "agrees"), v.Agrees)
		b = append(b, '}')
	}
	b = jsonw.Key(b, "prediction")
	if p := r.Prediction; p == nil {
		b = append(b, "null"...)
	} else {
		b = jsonw.Bool(jsonw.Key(append(b, '{'), "ok"), p.OK)
		b = jsonw.String(jsonw.Key(b, "stage"), p.Stage)
		b = append(jsonw.Bool(jsonw.Key(b, "correct"), p.Correct), '}')
	}
	if len(r.Refused) > 0 {
		b = append(jsonw.Key(b, "refused"), '[')
		for i := range r.Refused {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Refused[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendRequest(b []byte, q *scenario.Request) []byte {
	b = jsonw.String(jsonw.Key(append(b, '{'), "from"), q.From)
	b = jsonw.String(jsonw.Key(b, "lookalikeHost"), q.LookalikeHost)
	b = jsonw.String(jsonw.Key(b, "target"), q.Target)
	b = jsonw.String(jsonw.Key(b, "method"), q.Method)
	b = jsonw.String(jsonw.Key(b, "path"), q.Path)
	b = jsonw.Key(b, "headers")
	if q.Headers == nil {
		b = append(b, "null"...)
	} else {
		// encoding/json writes a map's keys in order.
		keys := make([]string, 0, len(q.Headers))
		for k := range q.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsonw.String(b, k), ':')
			b = jsonw.String(b, q.Headers[k])
		}
		b = append(b, '}')
	}
	b = jsonw.String(jsonw.Key(b, "body"), q.Body)
	b = jsonw.String(jsonw.Key(b, "credentials"), q.Credentials)
	b = jsonw.String(jsonw.Key(b, "mode"), q.Mode)
	b = jsonw.String(jsonw.Key(b, "redirect"), q.Redirect)
	b = jsonw.String(jsonw.Key(b, "via"), q.Via)
	b = jsonw.String(jsonw.Key(b, "crossOrigin"), q.CrossOrigin)
	b = jsonw.Bool(jsonw.Key(b, "withCredentials"), q.WithCredentials)
	b = jsonw.String(jsonw.Key(b, "enctype"), q.Enctype)
	return append(b, '}')
}

func (br *Browser) appendJSON(b []byte) []byte {
	b = jsonw.Bool(jsonw.Key(append(b, '{'), "ok"), br.OK)
	b = jsonw.Int(jsonw.Key(b, "status"), int64(br.Status))
	b = jsonw.String(jsonw.Key(b, "error"), br.Error)
	b = jsonw.String(jsonw.Key(b, "type"), br.Type)
	b = jsonw.Bool(jsonw.Key(b, "redirected"), br.Redirected)
	b = jsonw.String(jsonw.Key(b, "url"), br.URL)
	b = jsonw.Pairs(jsonw.Key(b, "headers"), br.Headers)
	b = jsonw.String(jsonw.Key(b, "body"), br.Body)
	b = jsonw.Bool(jsonw.Key(b, "bodyTruncated"), br.BodyTruncated)
	if br.HeadersTruncated {
		b = jsonw.Bool(jsonw.Key(b, "headersTruncated"), true)
	}
	b = jsonw.Float(jsonw.Key(b, "durationMs"), br.DurationMs)
	if br.Door != nil {
		b = br.Door.appendJSON(jsonw.Key(b, "door"))
	}
	return append(b, '}')
}

// appendJSON appends the door record as encoding/json would.
func (d *Door) appendJSON(b []byte) []byte {
	b = jsonw.String(jsonw.Key(append(b, '{'), "via"), d.Via)
	b = jsonw.String(jsonw.Key(b, "event"), d.Event)
	b = jsonw.Int(jsonw.Key(b, "width"), int64(d.Width))
	b = jsonw.Int(jsonw.Key(b, "height"), int64(d.Height))
	b = jsonw.String(jsonw.Key(b, "canvas"), d.Canvas)
	b = jsonw.String(jsonw.Key(b, "scriptError"), d.ScriptError)
	b = jsonw.String(jsonw.Key(b, "rules"), d.Rules)
	b = jsonw.Bool(jsonw.Key(b, "applied"), d.Applied)
	b = jsonw.Key(b, "messages")
	if d.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range d.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, m)
		}
		b = append(b, ']')
	}
	b = jsonw.Int(jsonw.Key(b, "closeCode"), int64(d.CloseCode))
	return append(b, '}')
}

func appendVerdict(b []byte, v *cors.Verdict) []byte {
	b = jsonw.Bool(jsonw.Key(append(b, '{'), "ok"), v.OK)
	b = jsonw.String(jsonw.Key(b, "browser"), v.Browser)
	b = jsonw.Bool(jsonw.Key(b, "verified"), v.Verified)
	b = jsonw.String(jsonw.Key(b, "about"), v.About)
	b = jsonw.String(jsonw.Key(b, "stage"), v.Stage)
	b = jsonw.Uint(jsonw.Key(b, "failedSeq"), v.FailedSeq)
	b = jsonw.Key(b, "steps")
	if v.Steps == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range v.Steps {
			if i > 0 {
				b = append(b, ',')
			}
			s := &v.Steps[i]
			b = jsonw.Bool(jsonw.Key(append(b, '{'), "ok"), s.OK)
			b = jsonw.String(jsonw.Key(b, "stage"), s.Stage)
			b = jsonw.String(jsonw.Key(b, "text"), s.Text)
			b = jsonw.String(jsonw.Key(b, "spec"), s.Spec)
			b = jsonw.Uint(jsonw.Key(b, "seq"), s.Seq)
			if s.Note != "" {
				b = jsonw.String(jsonw.Key(b, "note"), s.Note)
			}
			if s.Unexpected {
				b = jsonw.Bool(jsonw.Key(b, "unexpected"), true)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = jsonw.Key(b, "exposed")
	if v.Exposed == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, name := range v.Exposed {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, name)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (f *Refusal) appendJSON(b []byte) []byte {
	b = jsonw.Time(jsonw.Key(append(b, '{'), "at"), f.At)
	b = jsonw.String(jsonw.Key(b, "origin"), f.Origin)
	b = jsonw.String(jsonw.Key(b, "method"), f.Method)
	b = jsonw.String(jsonw.Key(b, "target"), f.Target)
	b = jsonw.Int(jsonw.Key(b, "status"), int64(f.Status))
	b = jsonw.String(jsonw.Key(b, "reason"), f.Reason)
	return append(b, '}')
}
