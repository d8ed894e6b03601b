package cors

import (
	"strings"
	"testing"
)

// The sentence that explains the page's origin says where a page of each
// kind got it; the verdict does not depend on the kind, only on the origin.
func TestExplainPageKind(t *testing.T) {
	tests := []struct {
		desc       string
		page       string
		origin     string
		want       []string // in the cors-protocol step's text
		wantNot    []string
		wantOrigin string // the Origin the step says the browser sends
	}{
		{"an ordinary page", "", app, nil, []string{"srcdoc", "sandbox"}, app},
		{"an opaque page of no named kind", "", "null", []string{"a sandboxed iframe, or a document from a `data:` URL"}, nil, "null"},
		{"a sandboxed iframe", PageSandbox, "null", []string{"sandboxed without `allow-same-origin` gets a new opaque origin"}, []string{"data:"}, "null"},
		{"a data: document", PageData, "null", []string{"a document from a `data:` URL gets a new opaque origin, whichever page made the frame"}, []string{"sandboxed"}, "null"},
		{"an <iframe srcdoc>", PageSrcdoc, app, []string{"`<iframe srcdoc>` document", "takes the origin of the page that holds the iframe, `" + app + "`", "srcdoc alone is not opaque"}, nil, app},
		{"a sandboxed iframe with allow-same-origin", PageSandboxSameOrigin, app, []string{"sandboxed with `allow-same-origin`", "keeps the origin of the URL it was loaded from, `" + app + "`"}, nil, app},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			req := get(func(r *Request) { r.Origin, r.Page = tt.origin, tt.page })
			v := Explain(Chromium, req, []Exchange{ex("GET", api+path, origin(tt.origin), 200, "Access-Control-Allow-Origin", tt.origin)}, nil, t0)
			if !v.OK {
				t.Fatalf("ok=false\n%s", steps(v))
			}
			var text string
			for _, st := range v.Steps {
				if strings.HasSuffix(st.Spec, "#cors-protocol") {
					text = st.Text
				}
			}
			if text == "" {
				t.Fatalf("no cors-protocol step:\n%s", steps(v))
			}
			if !strings.Contains(text, "sends `Origin: "+tt.wantOrigin+"`") {
				t.Errorf("the step does not say the browser sends Origin: %s: %s", tt.wantOrigin, text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the step does not say %q: %s", w, text)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(text, w) {
					t.Errorf("the step says %q: %s", w, text)
				}
			}
		})
	}
}
