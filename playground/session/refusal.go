package session

import "time"

// A Refusal is a request corslab itself turned away to protect the class
// (a rate limit, the memory budget, a size cap), not the scenario's
// servers. It is not an exchange: the browser's CORS check never saw a
// server's answer to it, so no verdict may be drawn from it. A run during
// which corslab refused a request carries the refusal instead of a verdict.
type Refusal struct {
	At     time.Time `json:"at"`
	Origin string    `json:"origin"` // the role that refused: app, api, s3, evil, ui
	Method string    `json:"method"`
	Target string    `json:"target"` // the request target, as sent
	Status int       `json:"status"` // 429, 503 or 413
	Reason string    `json:"reason"` // what corslab says about it

	after uint64 // the newest exchange when it was refused
}

// maxRefusals bounds the refusals a session remembers until a run claims
// them: a flood of refused requests costs a fixed amount.
const maxRefusals = 8

// Refuse notes that corslab turned away one of the session's requests. The
// next run that started before it claims it (see AddRun), so that its page
// says corslab refused the request, and the engine does not explain it as
// CORS.
func (s *Session) Refuse(r Refusal) {
	if len(r.Target) > 512 {
		r.Target = r.Target[:512]
	}
	if len(r.Method) > 32 {
		r.Method = r.Method[:32]
	}
	r.At = s.now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	r.after = s.seq
	if len(s.refusals) == maxRefusals {
		// Keep the newest: older ones belong to runs long gone.
		copy(s.refusals, s.refusals[1:])
		s.refusals = s.refusals[:maxRefusals-1]
	}
	s.refusals = append(s.refusals, r)
}

// claimRefusals takes the refusals noted since exchange since was
// recorded: those of a run that started then. Older ones belong to no run
// still to come, and are forgotten. Called with s.mu held.
func (s *Session) claimRefusals(since uint64) []Refusal {
	var mine []Refusal
	for _, r := range s.refusals {
		if r.after >= since {
			mine = append(mine, r)
		}
	}
	s.refusals = nil
	return mine
}
