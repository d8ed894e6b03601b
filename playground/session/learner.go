package session

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on what a learner may call themselves.
const (
	MaxNickname  = 40 // characters
	minLearnerID = 8
	maxLearnerID = 64
)

// SetLearner says which learner the session belongs to: an id their browser
// keeps, so that the instructor sees one person across the sessions they
// open, and the nickname they chose. Bad input is refused with the field
// and the rule, and changes nothing.
func (s *Session) SetLearner(id, nickname string) error {
	nickname = strings.TrimSpace(nickname)
	if err := checkLearnerID(id); err != nil {
		return err
	}
	if err := checkNickname(nickname); err != nil {
		return err
	}
	s.mu.Lock()
	s.learner, s.nickname = id, nickname
	s.mu.Unlock()
	s.changed()
	return nil
}

// SetLearnerID says which learner the session belongs to before they chose
// a name, so that the dashboard shows it in that learner's row from the
// start. A nickname the session has for the same learner stays; another
// learner's goes.
func (s *Session) SetLearnerID(id string) error {
	if err := checkLearnerID(id); err != nil {
		return err
	}
	s.mu.Lock()
	if s.learner != id {
		s.learner, s.nickname = id, ""
	}
	s.mu.Unlock()
	s.changed()
	return nil
}

// Learner returns the learner id and nickname, both "" until SetLearner.
func (s *Session) Learner() (id, nickname string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.learner, s.nickname
}

// FieldError is bad input for one field of a request.
type FieldError struct {
	Field, Rule string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Rule }

func checkLearnerID(id string) error {
	if len(id) < minLearnerID || len(id) > maxLearnerID {
		return &FieldError{"learner", fmt.Sprintf("must be %d to %d characters", minLearnerID, maxLearnerID)}
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return &FieldError{"learner", "may hold only letters, digits, '-' and '_'"}
		}
	}
	return nil
}

func checkNickname(n string) error {
	if !utf8.ValidString(n) {
		return &FieldError{"nickname", "must be UTF-8 text"}
	}
	if c := utf8.RuneCountInString(n); c < 1 || c > MaxNickname {
		return &FieldError{"nickname", fmt.Sprintf("must be 1 to %d characters", MaxNickname)}
	}
	for _, r := range n {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return &FieldError{"nickname", "may not hold control or invisible formatting characters"}
		}
	}
	return nil
}

// Version grows whenever something the instructor's dashboard shows may
// have changed: an exchange, a run, the scenario, the learner. Comparing
// versions tells which sessions need a fresh look.
func (s *Session) Version() uint64 { return s.version.Load() }

func (s *Session) changed() { s.version.Add(1) }

// LastUsed is when the session was last used.
func (s *Session) LastUsed() time.Time { return s.lastUsed() }

// Send hands frame to every subscriber now, without keeping it: for news
// that a reconnecting page gets some other way (an announcement, a new
// scenario). Like Record, it never blocks.
func (s *Session) Send(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast(frame)
}

// Notice reports whether a notice may go to the session's pages at time
// now: at most one a second, so that a flood of refused requests does not
// become a flood of frames.
func (s *Session) Notice(now time.Time) bool {
	last := s.noticed.Load()
	if now.UnixNano()-last < int64(time.Second) {
		return false
	}
	return s.noticed.CompareAndSwap(last, now.UnixNano())
}
