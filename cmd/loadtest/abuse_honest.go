package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// visitLength is how long an honest learner stays in a session before
// opening the next: long enough for ten runs, short enough that creating a
// session is measured a dozen times a minute per learner.
const visitLength = 5 * time.Second

// honest are the learners who only want to learn while the attacks run:
// the load test's learners (learner.go), each from its own 127.0.x.y, who
// create a session, watch it on its websocket, run requests in it for 5 s
// as the lab does, and start again; and someone following a documentation
// link to /lab from another site, which must keep working.
type honest struct {
	env    *env
	create histogram // POST /api/sessions, request to answer

	attempts, created atomic.Int64
	wsFailures        atomic.Int64
	navigations, labs atomic.Int64

	mu          sync.Mutex
	createFails map[string]int64 // by status, or transport error
	navFails    map[string]int64
}

func newHonest(ui string, rate float64, logf func(string, ...any)) *honest {
	return &honest{env: newEnv(ui, rate, logf), createFails: map[string]int64{}, navFails: map[string]int64{}}
}

// learner is one honest learner, visiting session after session until end.
// Each visit creates its session once, without the load test's retries: a
// refusal is what issue 12 says must not happen.
func (h *honest) learner(ctx context.Context, end time.Time) {
	first := newLearner(h.env) // its address, connections and websocket dialer serve every visit
	defer first.client.CloseIdleConnections()
	for ctx.Err() == nil && time.Until(end) > time.Second {
		l := &learner{env: h.env, client: first.client, ws: first.ws}
		start := time.Now()
		status, err := l.createSession(ctx, learnerScenario(false))
		if ctx.Err() != nil {
			return
		}
		h.attempts.Add(1)
		if err != nil {
			h.createFailed(status, err)
			sleepCtx(ctx, time.Second)
			continue
		}
		h.create.record(time.Since(start))
		h.created.Add(1)
		until := time.Now().Add(visitLength)
		if until.After(end) {
			until = end
		}
		if err := l.visit(ctx, until); err != nil && ctx.Err() == nil {
			h.wsFailures.Add(1)
			sleepCtx(ctx, time.Second)
		}
	}
}

func (h *honest) createFailed(status int, err error) {
	kind := describeErr(err)
	if status > 0 {
		kind = statusKind(status)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	countKind(h.createFails, kind)
}

// statusKind names a status in a count: "503 Service Unavailable".
func statusKind(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// navigate follows a documentation link to /lab from another site once a
// second, from an address of its own: a cross-site navigation, which
// issue 12 says must still open a lab while cross-site session creation
// is refused.
func (h *honest) navigate(ctx context.Context, ui string) {
	c := clientFrom(controlAddr, 10*time.Second)
	defer c.CloseIdleConnections()
	for ctx.Err() == nil {
		resp, err := c.Do(navigation(ui, "/lab", "cross-site").WithContext(ctx))
		if ctx.Err() != nil {
			return
		}
		h.navigations.Add(1)
		var kind string
		if err != nil {
			kind = describeErr(err)
		} else {
			resp.Body.Close()
			if createdSession(answer{Status: resp.StatusCode, Header: resp.Header}, "/lab/") {
				h.labs.Add(1)
			} else {
				kind = statusKind(resp.StatusCode)
			}
		}
		if kind != "" {
			h.mu.Lock()
			countKind(h.navFails, kind)
			h.mu.Unlock()
		}
		sleepCtx(ctx, time.Second)
	}
}

// honestResult is what the honest learners saw.
type honestResult struct {
	Learners       int              `json:"learners"`
	Rate           float64          `json:"ratePerLearner"`
	Attempts       int64            `json:"createAttempts"`
	Created        int64            `json:"created"`
	CreateFailures map[string]int64 `json:"createFailures"`
	WSFailures     int64            `json:"websocketFailures"` // a created session whose websocket would not open
	// Request to answer: POST /api/sessions; each request to a virtual
	// origin; each POST /runs. Exchange → websocket as in the load test.
	Create  summary     `json:"createSession"`
	Request summary     `json:"request"`
	RunPost summary     `json:"runPost"`
	Latency summary     `json:"exchangeToWebsocket"`
	Runs    int64       `json:"runs"`
	Errors  errorCounts `json:"errors"`
	Lost    lostResult  `json:"lost"`

	Navigations        int64            `json:"crossSiteNavigations"`
	NavigationLabs     int64            `json:"crossSiteNavigationsOpened"`
	NavigationFailures map[string]int64 `json:"crossSiteNavigationFailures"`
}

func (h *honest) summary() honestResult {
	s := h.env.stats
	r := honestResult{
		Attempts: h.attempts.Load(), Created: h.created.Load(), WSFailures: h.wsFailures.Load(),
		Create: h.create.summary(), Request: s.fetch.summary(), RunPost: s.runPost.summary(), Latency: s.latency.summary(),
		Runs: s.runsPosted.Load(), Errors: s.errors(),
		Lost:        lostResult{Gaps: s.gaps.Load(), Unaccounted: s.unaccounted.Load(), DupFrames: s.dupFrames.Load(), BadFrames: s.badFrames.Load()},
		Navigations: h.navigations.Load(), NavigationLabs: h.labs.Load(),
		CreateFailures: map[string]int64{}, NavigationFailures: map[string]int64{},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.createFails {
		r.CreateFailures[k] = n
	}
	for k, n := range h.navFails {
		r.NavigationFailures[k] = n
	}
	return r
}
