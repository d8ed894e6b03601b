package session

import (
	"strings"

	"github.com/corslab/corslab/playground/capture"
)

// slowSubscriberBytes is how far behind a websocket may be when the budget
// runs short: further, and it is dropped to free its queue.
const slowSubscriberBytes = 256 << 10

// sheddable is how many bytes shedding could take from the session.
func (s *Session) sheddable() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exBytes + s.runBytes + s.sockBytes
}

// dropBodies replaces the bodies of the session's oldest exchanges with a
// note, until want bytes are freed or half of its exchanges are bare; with
// all, every exchange may go bare.
func (s *Session) dropBodies(want int64, all bool) {
	s.mu.Lock()
	var freed int64
	n := len(s.exchanges) / 2
	if all {
		n = len(s.exchanges)
	}
	for i := range n {
		if freed >= want {
			break
		}
		e := &s.exchanges[i]
		if e.bare {
			continue
		}
		ex := e.Exchange()
		req := dropBody(&ex.Request, &ex.Raw.Request)
		resp := dropBody(&ex.Response, &ex.Raw.Response)
		if !req && !resp {
			e.bare = true
			continue
		}
		bare := exchange{Kept: capture.Keep(&ex), bare: true}
		s.shedUpTo = max(s.shedUpTo, e.id())
		freed += e.Bytes() - bare.Bytes()
		s.grow(&s.exBytes, bare.Bytes()-e.Bytes())
		*e = bare
	}
	s.shedNotice(freed)
	s.mu.Unlock()
}

// dropBody empties a message's body and cuts it from its raw text, leaving
// a note; it reports whether there was a body to drop.
func dropBody(m *capture.Message, raw *string) bool {
	if m.Body == "" {
		return false
	}
	head, _, ok := strings.Cut(*raw, "\r\n\r\n")
	if ok {
		*raw = head + "\r\n\r\n" + capture.BodyDropped
	}
	m.Body, m.BodyEncoding, m.BodyTruncated, m.BodyDropped = "", "", true, true
	return true
}

// dropOldest forgets the session's oldest exchanges, WebSocket frames and runs, until want
// bytes are freed or half of each is gone; with all, until only the newest
// of each is left.
func (s *Session) dropOldest(want int64, all bool) {
	s.mu.Lock()
	before := s.exBytes + s.runBytes + s.sockBytes
	freed := func() int64 { return before - (s.exBytes + s.runBytes + s.sockBytes) }
	keep := func(n int) int {
		if all {
			return n - 1
		}
		return n / 2
	}
	for n := keep(len(s.exchanges)); n > 0 && freed() < want; n-- {
		s.shedUpTo = max(s.shedUpTo, s.exchanges[0].id())
		s.popExchange()
	}
	for n := keep(len(s.sockFrames)); n > 0 && freed() < want; n-- {
		s.shedUpTo = max(s.shedUpTo, s.sockFrames[0].seq)
		s.popSocketFrame()
	}
	for n := keep(len(s.runs)); n > 0 && freed() < want; n-- {
		s.popRun()
	}
	s.shedNotice(freed())
	s.mu.Unlock()
}

// shedNotice tells the session's pages that older traffic was dropped, if
// any was. Called with s.mu held.
func (s *Session) shedNotice(freed int64) {
	if freed <= 0 {
		return
	}
	s.shed++
	s.broadcast(shedFrame)
}

// shedFrame tells a page that older traffic was dropped.
var shedFrame = NoticeFrame(ShedNotice)

// Shed is how many times the budget took traffic from the session.
func (s *Session) Shed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shed
}

// dropSlowSubscribers drops the websockets that have fallen far behind.
func (s *Session) dropSlowSubscribers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		if sub.pending() > slowSubscriberBytes {
			s.drop(sub)
		}
	}
}
