package scan_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/corslab/corslab/internal/peers"
	"github.com/corslab/corslab/playground/need"
	"github.com/corslab/corslab/playground/scan"
)

// The scan against real servers nobody here wrote, started for real:
// nginx and Express with the cors package, each configured well (corslab
// need's snippet for the app's PUT) and in a way people really write, each
// with its misconfiguration planted. Without nginx or Node the case is
// skipped, naming the package (a failure with CORSLAB_REQUIRE_BROWSER=1).
func TestScanRealServers(t *testing.T) {
	const app = "https://app.example.com"
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"hello":"scan"}`))
	}))
	t.Cleanup(backend.Close)
	p, err := need.Solve(need.Need{Origins: []string{app}, Method: "PUT", Headers: []string{"Content-Type: application/json"}, Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	route := "app.use((req, res) => res.json({hello: 'scan'}));\n"
	cases := []struct {
		desc    string
		missing func() string
		start   func(t *testing.T) string // the server's base URL
		want    []string                  // finding ids, the most severe first
	}{
		{
			desc: "nginx with corslab need's snippet: nothing to report", missing: peers.NginxMissing,
			start: func(t *testing.T) string {
				return peers.Nginx(t, need.NginxMaps(p), need.NginxLocation(p, "/", backend.URL))
			},
		},
		{
			// Browsers refuse the wildcard with credentials, so it leaks
			// nothing, but the preflight allows every method asked.
			desc: "nginx answering * with credentials", missing: peers.NginxMissing,
			start: func(t *testing.T) string {
				return peers.Nginx(t, "", fmt.Sprintf(`location / {
    add_header Access-Control-Allow-Origin * always;
    add_header Access-Control-Allow-Credentials true always;
    if ($request_method = OPTIONS) {
        add_header Access-Control-Allow-Origin * always;
        add_header Access-Control-Allow-Credentials true always;
        add_header Access-Control-Allow-Methods "GET, PUT" always;
        add_header Access-Control-Allow-Headers "Content-Type" always;
        return 204;
    }
    proxy_pass %s;
}
`, backend.URL))
			},
			want: []string{"wildcard-with-credentials"},
		},
		{
			desc: "nginx reflecting $http_origin with credentials and no Vary", missing: peers.NginxMissing,
			start: func(t *testing.T) string {
				return peers.Nginx(t, "", fmt.Sprintf(`location / {
    add_header Access-Control-Allow-Origin $http_origin always;
    add_header Access-Control-Allow-Credentials true always;
    if ($request_method = OPTIONS) {
        add_header Access-Control-Allow-Origin $http_origin always;
        add_header Access-Control-Allow-Credentials true always;
        add_header Access-Control-Allow-Methods "GET, PUT" always;
        add_header Access-Control-Allow-Headers "Content-Type" always;
        return 204;
    }
    proxy_pass %s;
}
`, backend.URL))
			},
			// Reflecting every origin takes in null and the look-alikes:
			// the scan reports it once, not once for each.
			want: []string{"reflects-any-origin-with-credentials", "missing-vary-origin"},
		},
		{
			desc: "Express with corslab need's snippet: nothing to report", missing: peers.ExpressMissing,
			start: func(t *testing.T) string { return peers.Express(t, need.Express(p)+route) },
		},
		{
			desc: "Express with cors({origin: true, credentials: true})", missing: peers.ExpressMissing,
			start: func(t *testing.T) string {
				return peers.Express(t, "const express = require('express');\nconst cors = require('cors');\nconst app = express();\n"+
					"app.use(cors({origin: true, credentials: true}));\n"+route)
			},
			want: []string{"reflects-any-origin-with-credentials"}, // cors adds Vary: Origin
		},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if why := c.missing(); why != "" {
				peers.Missing(t, why)
			}
			rep, err := scan.Run(context.Background(), scan.Config{
				URL: c.start(t) + "/api/items", Origin: app,
				Method: "PUT", Headers: [][2]string{{"Content-Type", "application/json"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.ID)
				if len(f.Evidence) == 0 {
					t.Errorf("finding %s has no evidence", f.ID)
				}
			}
			if !slices.Equal(got, c.want) {
				for _, f := range rep.Findings {
					t.Logf("%s (%s): %s", f.ID, f.Severity, f.Title)
				}
				t.Errorf("findings %q, want %q", got, c.want)
			}
		})
	}
}
