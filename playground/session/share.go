package session

import (
	"maps"
	"slices"
	"strings"

	"github.com/corslab/corslab/playground/cors"
)

// sharedStrings keeps one copy of each string the session's runs repeat:
// a learner runs the same request again and again, and its explanation,
// the response's headers and body, and the URLs are the same text each
// time, made anew by each run. A kept run points at the first copy, and
// the new one is left to the garbage collector.
type sharedStrings struct {
	m     map[string]string
	bytes int
	// headers are the request headers of the last runs kept, which a run
	// shares when it sets the same ones.
	headers recent[map[string]string]
	// steps are the explanations of the last runs kept, each step's seq
	// as its place in its run's exchanges (keptRun.relative): a run shares
	// one when the engine explained it the same way.
	steps recent[[]cors.Step]
}

// recent holds the last few distinct values of a kind, newest first:
// learners go back and forth between a few requests.
type recent[T any] struct{ list [8]T }

// find returns the value held that equal says is v's equal, or holds
// keep(v) and returns it.
func (r *recent[T]) find(v T, equal func(a, b T) bool, keep func(T) T) T {
	for i, held := range r.list {
		if equal(held, v) {
			copy(r.list[1:i+1], r.list[:i]) // to the front
			r.list[0] = held
			return held
		}
	}
	v = keep(v)
	copy(r.list[1:], r.list[:len(r.list)-1])
	r.list[0] = v
	return v
}

// Bounds on the table: a session whose runs say something new each time
// (a body with a timestamp) starts a new table when one is full. Runs
// already kept keep the strings they point at.
const (
	maxSharedStrings     = 1024
	maxSharedStringBytes = 256 << 10
	// maxShared is the longest string shared: a longer one is rarely
	// repeated, and comparing it costs more than it saves.
	maxShared = 4 << 10
)

// share makes *str the kept copy of its text, keeping a copy if there is
// none. Every string a kept run holds goes through here, and comes out a
// string of its own: a posted run's strings are cut from the request's
// whole body (decodeRun does not copy them), and a body cut to what a
// run keeps is still the whole body underneath. Kept as they came, a run
// counted for its frame's size would hold on to up to 256 KiB.
func (t *sharedStrings) share(str *string) {
	s := *str
	switch {
	case s == "":
		return
	case len(s) > maxShared:
		*str = strings.Clone(s)
		return
	}
	if kept, ok := t.m[s]; ok {
		*str = kept
		return
	}
	if t.m == nil || len(t.m) >= maxSharedStrings || t.bytes+len(s) > maxSharedStringBytes {
		t.m, t.bytes = make(map[string]string), 0
	}
	s = strings.Clone(s)
	t.m[s] = s
	t.bytes += len(s)
	*str = s
}

// shareRun makes r point at the kept copies of its strings, and gives its
// lists their exact length. When it reports relative, each step's seq is
// its exchange's place in r.Exchanges instead (keptRun.relative), and the
// steps may be another run's.
func (t *sharedStrings) shareRun(r *Run) (relative bool) {
	t.share(&r.URL)
	t.share(&r.Setup)
	q := &r.Request
	for _, f := range []*string{&q.From, &q.LookalikeHost, &q.Target, &q.Method, &q.Path, &q.Body, &q.Credentials, &q.Mode, &q.Redirect, &q.Via, &q.CrossOrigin, &q.Enctype} {
		t.share(f)
	}
	if q.Headers != nil {
		q.Headers = t.headers.find(q.Headers, func(a, b map[string]string) bool { return a != nil && maps.Equal(a, b) }, t.shareMap)
	}
	if p := r.Prediction; p != nil {
		kept := *p
		t.share(&kept.Stage)
		r.Prediction = &kept
	}
	b := &r.Browser
	t.share(&b.Error)
	t.share(&b.Type)
	t.share(&b.URL)
	t.share(&b.Body)
	if d := b.Door; d != nil {
		kept := *d // a copy: the caller's run keeps its own
		for _, f := range []*string{&kept.Via, &kept.Event, &kept.Canvas, &kept.ScriptError, &kept.Rules} {
			t.share(f)
		}
		kept.Messages = slices.Clone(kept.Messages)
		for i := range kept.Messages {
			t.share(&kept.Messages[i])
		}
		b.Door = &kept
	}
	b.Headers = clip(b.Headers)
	for i := range b.Headers {
		t.share(&b.Headers[i][0])
		t.share(&b.Headers[i][1])
	}
	if r.Verdict == nil {
		return false
	}
	v := *r.Verdict // a copy: the caller's run keeps its own
	t.share(&v.Browser)
	t.share(&v.About)
	t.share(&v.Stage)
	for i := range v.Steps {
		st := &v.Steps[i]
		t.share(&st.Stage)
		t.share(&st.Text)
		t.share(&st.Spec)
		t.share(&st.Note)
	}
	v.Exposed = clip(v.Exposed)
	for i := range v.Exposed {
		t.share(&v.Exposed[i])
	}
	r.Verdict = &v
	steps, ok := relativeSteps(v.Steps, r.Exchanges)
	switch {
	case !ok:
		v.Steps = clip(v.Steps)
	case len(steps) > 0:
		v.Steps = t.steps.find(steps, func(a, b []cors.Step) bool { return a != nil && slices.Equal(a, b) }, func(s []cors.Step) []cors.Step { return s })
	default:
		v.Steps = clip(v.Steps) // none: nil stays nil, for JSON's null
	}
	return ok
}

// shareMap is a copy of m whose keys and values are shared.
func (t *sharedStrings) shareMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		t.share(&k)
		t.share(&v)
		out[k] = v
	}
	return out
}

// relativeSteps is steps with each seq given as its place in exchanges,
// from 1 (0 stays 0); not ok when a step is about an exchange the run did
// not claim.
func relativeSteps(steps []cors.Step, exchanges []uint64) ([]cors.Step, bool) {
	out := append(make([]cors.Step, 0, len(steps)), steps...)
	for i := range out {
		if seq := out[i].Seq; seq > 0 {
			at := slices.Index(exchanges, seq)
			if at < 0 {
				return nil, false
			}
			out[i].Seq = uint64(at + 1)
		}
	}
	return out, true
}

// clip is a copy of s at its exact length, when s has room to spare: the
// spare room would be kept with it.
func clip[S ~[]E, E any](s S) S {
	switch {
	case cap(s) == len(s):
		return s
	case len(s) == 0:
		return make(S, 0) // empty, not nil: JSON tells [] from null
	}
	return append(make(S, 0, len(s)), s...)
}
