package playground

import (
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/cors"
)

// The app's runner makes the frame a run from data or srcdoc happens in
// when asked with ?frame=; the server checks the parameter, and the page's
// policy lets it frame a data: URL only when that is the frame it makes.
func TestRunnerFrameParameter(t *testing.T) {
	srv := startServer(t, 1)
	p := func(r Role) string { return strconv.Itoa(srv.Port(r)) }
	app := "http://127.0.0.1:" + p(App)
	csp := func(frameSrc string) string {
		return "default-src 'none'; script-src *; style-src *; img-src * data:; font-src *; connect-src *; " +
			frameSrc + "; form-action *; object-src 'none'; base-uri 'none'"
	}
	tests := []struct {
		desc, url string
		status    int
		says      string // in the body: the data-frame attribute, or the error
		csp       string
	}{
		{"app, a data: frame", app + "/_corslab/runner?frame=data", 200, `data-frame="data"`, csp("frame-src * data:")},
		{"app, an <iframe srcdoc>: no data: needed", app + "/_corslab/runner?frame=srcdoc", 200, `data-frame="srcdoc"`, csp("frame-src *")},
		{"app, with the lab named", app + "/_corslab/runner?ui=http://127.0.0.1:" + p(UI) + "&frame=data", 200, `data-frame="data"`, csp("frame-src * data:")},
		{"app, no frame", app + "/_corslab/runner", 200, `data-frame=""`, csp("frame-src *")},
		{"an unknown kind", app + "/_corslab/runner?frame=blob", 400, `frame: must be data or srcdoc; got "blob"`, csp("frame-src *")},
		{"a data: URL is no kind", app + "/_corslab/runner?frame=data:text/html,x", 400, `frame: must be data or srcdoc; got "data:text/html,x"`, csp("frame-src *")},
		{"twice", app + "/_corslab/runner?frame=data&frame=srcdoc", 400, "frame: give it once; got 2 values", csp("frame-src *")},
		{"evil makes no frame", "http://127.0.0.1:" + p(Evil) + "/_corslab/runner?frame=data", 400, "frame: only the app origin's runner makes a data frame; this is the evil origin's", ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			resp, body := getAs(t, tt.url, strings.TrimPrefix(tt.url[:strings.Index(tt.url, "/_corslab")], "http://"))
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.says) {
				t.Errorf("GET %s: %d, want %d saying %q\n%s", tt.url, resp.StatusCode, tt.status, tt.says, body)
			}
			if tt.csp == "" {
				return
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != tt.csp {
				t.Errorf("Content-Security-Policy:\n got %s\nwant %s", got, tt.csp)
			}
		})
	}
}

// The engine hears which kind of page a run came from, for the sentence
// that explains its origin.
func TestPageKind(t *testing.T) {
	for from, want := range map[string]string{
		"app": "", "evil": "", "api": "", "lookalike": "",
		"sandbox": cors.PageSandbox, "sandbox-same-origin": cors.PageSandboxSameOrigin,
		"data": cors.PageData, "srcdoc": cors.PageSrcdoc,
	} {
		if got := pageKind(from); got != want {
			t.Errorf("pageKind(%q) = %q, want %q", from, got, want)
		}
	}
}
