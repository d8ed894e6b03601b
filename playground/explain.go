package playground

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/session"
)

// explainer gives a posted run its verdict: the engine, for the browser the
// page runs in, over the exchanges the run claimed, as the session kept
// them for it when they were recorded.
func (s *Server) explainer(r *http.Request, n *newRun) session.EngineExplainer {
	o := s.originsFor(r)
	req := cors.Request{
		Origin:      o.pageOrigin(n.Request),
		Page:        pageKind(n.Request.From),
		URL:         n.URL,
		Method:      n.Request.Method,
		Body:        n.Request.Body != "",
		Mode:        n.Request.Mode,
		Credentials: n.Request.Credentials,
		Redirect:    n.Request.Redirect,
		Document:    n.DocumentID,

		Via:             n.Request.Via,
		CrossOrigin:     n.Request.CrossOrigin,
		WithCredentials: n.Request.WithCredentials,
		Enctype:         n.Request.Enctype,
	}
	for name, value := range n.Request.Headers {
		req.Headers = append(req.Headers, [2]string{name, value})
	}
	slices.SortFunc(req.Headers, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	browser := cors.ForUserAgent(n.UserAgent)
	// The page measured how long the fetch took; it began about that long
	// ago. The preflight cache is judged as of then.
	started := time.Now().Add(-time.Duration(n.Browser.DurationMs * float64(time.Millisecond)))

	return func(claimed []cors.Exchange, cache *cors.Cache) cors.Verdict {
		exchanges := claimed[:0]
		for _, ex := range claimed {
			req := capture.Message{Headers: ex.RequestHeaders}
			if via, _ := req.Header("Via"); via == proxyVia {
				continue // the app origin's proxy made it, not the browser
			}
			exchanges = append(exchanges, ex)
		}
		now := started
		if len(exchanges) > 0 && exchanges[0].At.Before(now) {
			now = exchanges[0].At
		}
		return cors.Explain(browser, req, exchanges, cache, now)
	}
}

// pageKind names, for the engine, the kind of page a run's from is, when
// its origin is not simply its URL's: the frames app's page holds.
func pageKind(from string) string {
	switch from {
	case "sandbox":
		return cors.PageSandbox
	case "sandbox-same-origin":
		return cors.PageSandboxSameOrigin
	case "data":
		return cors.PageData
	case "srcdoc":
		return cors.PageSrcdoc
	}
	return ""
}
