package session

import (
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"sync"
)

// A Subscriber receives a session's events as websocket frames. Its queue
// is bounded in bytes (MaxSubscriberBytes): a subscriber that falls that
// far behind is dropped (Gone is closed), so a slow websocket never holds
// up request handling, and the bytes it waits for count against the
// budget.
type Subscriber struct {
	// Ready receives a value when frames are waiting: take them with Next.
	Ready <-chan struct{}
	Gone  <-chan struct{}

	ready  chan struct{}
	gone   chan struct{}
	budget *Budget

	mu      sync.Mutex
	queue   [][]byte
	queued  int64 // bytes in queue
	dropped bool
}

// ErrTooManyWatchers is Subscribe's answer when MaxSubscribers websockets
// already watch the session.
var ErrTooManyWatchers = errors.New("too many pages watch this session")

// Subscribe registers a subscriber and returns it with the backlog: every
// kept exchange and WebSocket frame with seq > since and every kept run with
// id > runsSince, in order, and a notice if shedding took some of what the page asks for.
// Taking the backlog and registering happen under one lock, so nothing
// falls between them and nothing arrives twice.
func (s *Session) Subscribe(since uint64, runsSince int) (*Subscriber, *Backlog, error) {
	sub := &Subscriber{ready: make(chan struct{}, 1), gone: make(chan struct{}), budget: s.budget}
	sub.Ready, sub.Gone = sub.ready, sub.gone
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) >= MaxSubscribers {
		return nil, nil, ErrTooManyWatchers
	}
	backlog := &Backlog{exchanges: slices.Clone(s.exchangesSince(since)), runs: slices.Clone(s.runsAfter(runsSince)),
		sockFrames: slices.Clone(s.socketFramesSince(since))}
	if since < s.shedUpTo {
		// Some of what this page asks for was shed while it was away:
		// say so, as the pages that were watching were told.
		backlog.Add(shedFrame)
	}
	if s.closed {
		close(sub.gone)
		return sub, backlog, nil
	}
	s.subs[sub] = struct{}{}
	return sub, backlog, nil
}

// Backlog is what a page that (re)connects is sent before the live
// frames: the kept exchanges and runs it asks for, whose frames are made
// one at a time as they are sent (a page asking for 1,000 exchanges costs
// one frame's memory at a time, not 2 MB), with the WebSocket frames
// among them in seq order, then the other frames in the order they were
// added.
type Backlog struct {
	exchanges  []exchange    // copies: a kept exchange's text is never changed
	runs       []keptRun     // nor is a kept run
	sockFrames []socketFrame // nor a kept WebSocket frame
	frames     [][]byte
}

// Add puts frame at the end of the backlog.
func (b *Backlog) Add(frame []byte) { b.frames = append(b.frames, frame) }

// Len is the number of frames in the backlog.
func (b *Backlog) Len() int {
	return len(b.exchanges) + len(b.runs) + len(b.sockFrames) + len(b.frames)
}

// All yields the backlog's frames in order.
func (b *Backlog) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		socks := b.sockFrames
		for i := range b.exchanges {
			for len(socks) > 0 && socks[0].seq < b.exchanges[i].id() {
				if !yield(socks[0].frame.frame) {
					return
				}
				socks = socks[1:]
			}
			if !yield(b.exchanges[i].frame()) {
				return
			}
		}
		for _, f := range socks {
			if !yield(f.frame.frame) {
				return
			}
		}
		for _, r := range b.runs {
			if !yield(r.wsFrame()) {
				return
			}
		}
		for _, f := range b.frames {
			if !yield(f) {
				return
			}
		}
	}
}

// Next takes the oldest waiting frame, if there is one. The writer takes
// one frame at a time, so that what waits behind a slow connection stays
// in the queue, counted and bounded, not in the writer's hands.
func (sub *Subscriber) Next() ([]byte, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.queue) == 0 {
		return nil, false
	}
	frame := sub.queue[0]
	sub.queue[0] = nil
	sub.queue = sub.queue[1:]
	n := int64(len(frame))
	sub.queued -= n
	sub.budget.add(-n)
	return frame, true
}

// push queues frame, unless that would put the subscriber more than
// MaxSubscriberBytes behind; it reports whether it did.
func (sub *Subscriber) push(frame []byte) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	n := int64(len(frame))
	if sub.dropped || sub.queued+n > MaxSubscriberBytes {
		return false
	}
	sub.queue = append(sub.queue, frame)
	sub.queued += n
	sub.budget.add(n)
	select {
	case sub.ready <- struct{}{}:
	default: // a wake-up is already waiting
	}
	return true
}

// pending is how many bytes wait to be sent.
func (sub *Subscriber) pending() int64 {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.queued
}

// NoticeFrame is a websocket frame that shows text on the session's pages:
// {"type": "notice", "text": …}.
func NoticeFrame(text string) []byte {
	frame, _ := json.Marshal(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{"notice", text})
	return frame
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
		if !sub.push(frame) {
			s.drop(sub)
		}
	}
}

// drop forgets sub, gives its queue back to the budget and tells its
// writer to go. Called with s.mu held.
func (s *Session) drop(sub *Subscriber) {
	delete(s.subs, sub)
	sub.mu.Lock()
	sub.dropped = true
	sub.queue = nil
	sub.budget.add(-sub.queued)
	sub.queued = 0
	sub.mu.Unlock()
	close(sub.gone)
}
