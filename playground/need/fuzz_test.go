package need

import (
	"strings"
	"testing"

	jub0bs "github.com/jub0bs/cors"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/scenario"
)

// FuzzSolve: whatever the learner types, Solve either refuses it or gives
// a policy whose snippets corslab, S3 and jub0bs/cors accept.
func FuzzSolve(f *testing.F) {
	f.Add("https://app.example.com", "PUT", "X-Api-Key\nContent-Type: application/json", "X-Request-Id", true, false)
	f.Add("http://localhost:5173\nhttp://127.0.0.1:8080", "get", "Accept: */*", "ETag", false, true)
	f.Add("null", "TRACE", "Cookie", "Set-Cookie", true, true)
	f.Fuzz(func(t *testing.T, origins, method, headers, expose string, credentials, redirect bool) {
		n := Need{Origins: strings.Split(origins, "\n"), Method: method, Credentials: credentials, SignedS3Redirect: redirect}
		if headers != "" {
			n.Headers = strings.Split(headers, "\n")
		}
		if expose != "" {
			n.Expose = strings.Split(expose, "\n")
		}
		p, err := Solve(n)
		if err != nil {
			return
		}
		if _, err := scenario.Decode(Corslab(p)); err != nil {
			t.Errorf("%+v: the corslab scenario does not decode: %v\n%s", n, err, Corslab(p))
		}
		if p.Bucket != nil {
			if err := s3cors.Validate(BucketRules(p)); err != nil {
				t.Errorf("%+v: S3 refuses the rules: %v", n, err)
			}
		}
		if _, err := jub0bs.NewMiddleware(Jub0bsConfig(p)); err != nil {
			t.Errorf("%+v: jub0bs/cors refuses the configuration: %v", n, err)
		}
		Snippets(p)
	})
}
