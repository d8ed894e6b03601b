package cors

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// server answers a request the browser sent: a status and the response
// headers.
type server func(s Send) (int, [][2]string)

// allowAll answers every preflight and request for app with credentials.
func allowAll(s Send) (int, [][2]string) {
	resp := h("Access-Control-Allow-Origin", s.Origin, "Access-Control-Allow-Credentials", "true")
	if s.Preflight {
		resp = append(resp, h("Access-Control-Allow-Methods", header(s.Headers, "Access-Control-Request-Method"),
			"Access-Control-Allow-Headers", header(s.Headers, "Access-Control-Request-Headers"))...)
		return 204, resp
	}
	return 200, resp
}

// redirectOnce answers the first request to from with a redirect to to,
// then as allowAll.
func redirectOnce(status int, from, to string) server {
	return func(s Send) (int, [][2]string) {
		if s.URL == from && !s.Preflight {
			code, resp := allowAll(s)
			if code == 200 {
				return status, append(resp, [2]string{"Location", to})
			}
		}
		return allowAll(s)
	}
}

// drive sends what Next says until it says nothing more, answering each
// request with srv, and returns what was sent and the exchanges.
func drive(t *testing.T, b *Browser, req Request, srv server) ([]Send, []Exchange) {
	t.Helper()
	var sent []Send
	var exchanges []Exchange
	for {
		s, ok := Next(b, req, exchanges, t0)
		if !ok {
			return sent, exchanges
		}
		if len(sent) == 50 {
			t.Fatalf("Next never stopped: %v", sent)
		}
		sent = append(sent, s)
		reqHeaders := s.Headers
		if s.Origin != "" {
			reqHeaders = append(h("Origin", s.Origin), s.Headers...)
		}
		status, resp := srv(s)
		exchanges = append(exchanges, Exchange{Seq: uint64(len(sent)), At: t0, Method: s.Method, URL: s.URL, RequestHeaders: reqHeaders, Status: status, ResponseHeaders: resp})
	}
}

// brief is a Send in one line, for comparing and for failure messages.
func brief(s Send) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.Method, s.URL)
	if s.Origin != "" {
		fmt.Fprintf(&b, " origin=%s", s.Origin)
	}
	for _, h := range s.Headers {
		fmt.Fprintf(&b, " %s=%s", h[0], h[1])
	}
	if s.Body {
		b.WriteString(" body")
	}
	if s.Credentials {
		b.WriteString(" cookies")
	}
	return b.String()
}

func TestNext(t *testing.T) {
	other := "http://localhost:9000"
	tests := []struct {
		desc    string
		browser *Browser
		req     Request
		srv     server
		want    []string // brief of each Send, in order
		wantOK  bool
	}{
		{
			desc: "a simple GET goes straight away with Origin",
			req:  get(), srv: allowAll,
			want:   []string{"GET " + api + path + " origin=" + app},
			wantOK: true,
		},
		{
			desc: "PUT with JSON and credentials: a preflight asking for the method and content-type, then the request with cookies",
			req:  get(withMethod("put"), withHeaders("Content-Type", "application/json"), withCreds, withBody), srv: allowAll,
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=PUT Access-Control-Request-Headers=content-type",
				"PUT " + api + path + " origin=" + app + " Content-Type=application/json body cookies",
			},
			wantOK: true,
		},
		{
			desc: "unsafe names are lower case, sorted and comma-joined; safelisted ones are left out",
			req:  get(withHeaders("X-B", "1", "Accept", "text/html", "x-a", "2", "X-B", "3")), srv: allowAll,
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=GET Access-Control-Request-Headers=x-a,x-b",
				"GET " + api + path + " origin=" + app + " X-B=1 Accept=text/html x-a=2 X-B=3",
			},
			wantOK: true,
		},
		{
			desc: "a refused preflight ends the fetch: the request is never sent",
			req:  get(withMethod("DELETE")),
			srv:  func(s Send) (int, [][2]string) { return 204, h("Access-Control-Allow-Origin", app) },
			want: []string{"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=DELETE"},
		},
		{
			desc: "a page's own OPTIONS is preflighted, then sent",
			req:  get(withMethod("OPTIONS")), srv: allowAll,
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=OPTIONS",
				"OPTIONS " + api + path + " origin=" + app,
			},
			wantOK: true,
		},
		{
			desc: "fetch() drops a header the page may not set, and a string body brings text/plain",
			req:  get(withMethod("POST"), withHeaders("Cookie", "a=1"), withBody), srv: allowAll,
			want:   []string{"POST " + api + path + " origin=" + app + " Content-Type=text/plain;charset=UTF-8 body"},
			wantOK: true,
		},
		{
			desc: "a same-origin GET carries no Origin, and cookies in mode same-origin",
			req:  get(withURL(app + path)), srv: allowAll,
			want:   []string{"GET " + app + path + " cookies"},
			wantOK: true,
		},
		{
			desc: "a forbidden method: fetch() throws and nothing is sent",
			req:  get(withMethod("TRACE")), srv: allowAll,
		},
		{
			desc: "a redirect from the API to another origin taints the origin: the next hop says null",
			req:  get(), srv: redirectOnce(302, api+path, other+"/x"),
			want: []string{
				"GET " + api + path + " origin=" + app,
				"GET " + other + "/x origin=null",
			},
			wantOK: true,
		},
		{
			desc: "Chromium: a 303 turns a PUT into a GET that needs no preflight",
			req:  get(withMethod("PUT")), srv: redirectOnce(303, api+path, api+"/next"),
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=PUT",
				"PUT " + api + path + " origin=" + app,
				"GET " + api + "/next origin=" + app,
			},
			wantOK: true,
		},
		{
			desc:    "Firefox preflights the hop after a 303 anyway, with nothing to ask but GET",
			browser: Firefox,
			req:     get(withMethod("PUT")), srv: redirectOnce(303, api+path, api+"/next"),
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=PUT",
				"PUT " + api + path + " origin=" + app,
				"OPTIONS " + api + "/next origin=" + app + " Access-Control-Request-Method=GET",
				"GET " + api + "/next origin=" + app,
			},
			wantOK: true,
		},
		{
			desc:    "Firefox sends the page's own origin on a preflight after a taint",
			browser: Firefox,
			req:     get(withHeaders("X-A", "1")), srv: redirectOnce(307, api+path, other+"/x"),
			want: []string{
				"OPTIONS " + api + path + " origin=" + app + " Access-Control-Request-Method=GET Access-Control-Request-Headers=x-a",
				"GET " + api + path + " origin=" + app + " X-A=1",
				"OPTIONS " + other + "/x origin=" + app + " Access-Control-Request-Method=GET Access-Control-Request-Headers=x-a",
				"GET " + other + "/x origin=null X-A=1",
			},
			wantOK: true,
		},
		{
			desc: "redirect mode error: the redirect ends the fetch",
			req:  get(withRedirect("error")), srv: redirectOnce(302, api+path, api+"/next"),
			want: []string{"GET " + api + path + " origin=" + app},
		},
	}
	for _, tt := range tests {
		b := tt.browser
		if b == nil {
			b = Chromium
		}
		sent, exchanges := drive(t, b, tt.req, tt.srv)
		var got []string
		for _, s := range sent {
			got = append(got, brief(s))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: sent\n  %s\nwant\n  %s", tt.desc, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			continue
		}
		for i, s := range sent {
			if s.Preflight != (s.Method == "OPTIONS" && strings.Contains(got[i], "Access-Control-Request-Method")) {
				t.Errorf("%s: send %d: Preflight is %v", tt.desc, i+1, s.Preflight)
			}
		}
		v := Explain(b, tt.req, exchanges, nil, t0)
		if v.OK != tt.wantOK {
			t.Errorf("%s: verdict OK is %v, want %v; steps: %+v", tt.desc, v.OK, tt.wantOK, v.Steps)
		}
		// What Next said to send is what Explain expects to find.
		for _, st := range v.Steps {
			if st.Unexpected {
				t.Errorf("%s: the model is surprised by its own plan: %s", tt.desc, st.Text)
			}
		}
	}
}

// Next agrees with Explain for every engine over a spread of requests:
// sending what Next says never surprises the model.
func TestNextAgreesWithExplain(t *testing.T) {
	reqs := []Request{
		get(), get(withCreds), get(withMethod("patch"), withCreds),
		get(withHeaders("Authorization", "Bearer x")), get(withMethod("POST"), withBody, withHeaders("Content-Type", "application/json")),
		get(withHeaders("Accept", strings.Repeat("a", 600), "Accept-Language", strings.Repeat("b", 600))),
		get(withMode("no-cors"), withMethod("POST")), get(fromNull, withMethod("PUT")),
	}
	servers := map[string]server{
		"allow":         allowAll,
		"301 elsewhere": redirectOnce(301, api+path, s3+"/y"),
		"308 home":      redirectOnce(308, api+path, app+"/z"),
		"refuse":        func(Send) (int, [][2]string) { return 403, nil },
	}
	for _, b := range append(Engines, Standard) {
		for i, req := range reqs {
			for name, srv := range servers {
				_, exchanges := drive(t, b, req, srv)
				for _, st := range Explain(b, req, exchanges, nil, t0).Steps {
					if st.Unexpected {
						t.Errorf("%s, request %d, server %s: %s", b.Name, i, name, st.Text)
					}
				}
			}
		}
	}
}
