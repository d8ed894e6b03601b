package session

import "errors"

// A Subscriber receives a session's events as websocket frames. Frames is
// buffered; when it is full the subscriber is dropped (Gone is closed), so a
// slow websocket never holds up request handling.
type Subscriber struct {
	Frames <-chan []byte
	Gone   <-chan struct{}

	frames chan []byte
	gone   chan struct{}
}

// ErrTooManyWatchers is Subscribe's answer when MaxSubscribers websockets
// already watch the session.
var ErrTooManyWatchers = errors.New("too many pages watch this session")

// Subscribe registers a subscriber and returns it with the backlog: every
// kept exchange with seq > since and every kept run with id > runsSince, in
// order. Taking the backlog and registering happen under one lock, so
// nothing falls between them and nothing arrives twice.
func (s *Session) Subscribe(since uint64, runsSince int) (*Subscriber, [][]byte, error) {
	sub := &Subscriber{frames: make(chan []byte, SubscriberBuffer), gone: make(chan struct{})}
	sub.Frames, sub.Gone = sub.frames, sub.gone
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) >= MaxSubscribers {
		return nil, nil, ErrTooManyWatchers
	}
	var backlog [][]byte
	for _, e := range s.exchangesSince(since) {
		backlog = append(backlog, e.frame)
	}
	for _, r := range s.runs {
		if r.ID > runsSince {
			backlog = append(backlog, r.frame)
		}
	}
	if s.closed {
		close(sub.gone)
		return sub, backlog, nil
	}
	s.subs[sub] = struct{}{}
	return sub, backlog, nil
}

// Unsubscribe removes sub; it is safe to call after sub was dropped.
func (s *Session) Unsubscribe(sub *Subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subs[sub]; ok {
		s.drop(sub)
	}
}

// Subscribers is how many websockets watch the session.
func (s *Session) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// broadcast sends frame to every subscriber without blocking. Called with
// s.mu held.
func (s *Session) broadcast(frame []byte) {
	for sub := range s.subs {
		select {
		case sub.frames <- frame:
		default:
			s.drop(sub)
		}
	}
}

// drop forgets sub and tells its writer to go. Called with s.mu held.
func (s *Session) drop(sub *Subscriber) {
	delete(s.subs, sub)
	close(sub.gone)
}
