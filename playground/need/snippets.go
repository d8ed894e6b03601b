package need

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	jub0bs "github.com/jub0bs/cors"
	rscors "github.com/rs/cors"

	"github.com/corslab/corslab/playground/s3cors"
)

// Servers are the servers a snippet is written for, each proven by a
// browser test that starts it with the snippet: corslab offers none for a
// server its suite cannot start.
var Servers = []string{"corslab", "s3", "nginx", "express", "rs-cors", "jub0bs-cors"}

// Snippet is a policy written as one server's configuration.
type Snippet struct {
	Server string `json:"server"`
	Title  string `json:"title"`
	// Lang names the snippet's language, for highlighting: json, xml,
	// nginx, js, go.
	Lang string `json:"lang"`
	Text string `json:"text"`
}

// Snippets writes p for each server in Servers, in that order: one snippet
// per server, two for S3 (XML for the API, JSON for the aws command line).
// S3 has none when p.Bucket is nil.
func Snippets(p *Policy) []Snippet {
	var out []Snippet
	for _, s := range Servers {
		out = append(out, SnippetsFor(p, s)...)
	}
	return out
}

// SnippetsFor writes p for one server of Servers.
func SnippetsFor(p *Policy, server string) []Snippet {
	switch server {
	case "corslab":
		return []Snippet{{server, "corslab scenario (paste into the lab's scenario JSON)", "json", string(Corslab(p))}}
	case "s3":
		if p.Bucket == nil {
			return nil
		}
		return []Snippet{
			{server, "S3 bucket CORS configuration (PutBucketCors body, or the console's XML)", "xml", string(s3cors.XML(BucketRules(p)))},
			{server, "S3 bucket CORS configuration (aws s3api put-bucket-cors --bucket B --cors-configuration file://cors.json)", "json", S3JSON(p)},
		}
	case "nginx":
		return []Snippet{{server, "nginx (map in http { }, location in server { })", "nginx", NginxMaps(p) + "\n" + NginxLocation(p, "/api/", "http://127.0.0.1:3000")}}
	case "express":
		return []Snippet{{server, "Express with the cors package (npm install express cors)", "js", Express(p)}}
	case "rs-cors":
		return []Snippet{{server, "Go, github.com/rs/cors", "go", RsCors(p)}}
	case "jub0bs-cors":
		return []Snippet{{server, "Go, github.com/jub0bs/cors", "go", Jub0bs(p)}}
	}
	return nil
}

// corslabAPI is the part of a corslab scenario's api (scenario.API) the
// policy sets, in the order a learner reads it: the snippet is a partial
// scenario, not every field of one. Its names cannot drift from
// scenario.API's: the tests decode every snippet with scenario.Decode,
// which refuses an unknown field.
type corslabAPI struct {
	AllowOrigin      string   `json:"allowOrigin"`
	Allowlist        []string `json:"allowlist"`
	Match            string   `json:"match"`
	AllowCredentials bool     `json:"allowCredentials"`
	AllowMethods     string   `json:"allowMethods"`
	AllowHeaders     string   `json:"allowHeaders"`
	ExposeHeaders    string   `json:"exposeHeaders"`
	MaxAge           *int     `json:"maxAge"`
	Vary             bool     `json:"vary"`
	PreflightStatus  int      `json:"preflightStatus"`
	Redirect         int      `json:"redirect,omitempty"`
}

type corslabScenario struct {
	API    corslabAPI `json:"api"`
	Bucket *struct {
		CORS []s3cors.Rule `json:"cors"`
	} `json:"bucket,omitempty"`
}

// Corslab is p as a partial corslab scenario: its api, and with a signed
// S3 redirect, the api's 303 and the bucket's rule.
func Corslab(p *Policy) []byte {
	sc := corslabScenario{API: corslabAPI{
		AllowOrigin:      "allowlist",
		Allowlist:        p.Origins,
		Match:            "exact",
		AllowCredentials: p.Credentials,
		AllowMethods:     strings.Join(p.AllowMethods, ", "),
		AllowHeaders:     strings.Join(p.AllowHeaders, ", "),
		ExposeHeaders:    strings.Join(p.Expose, ", "),
		Vary:             true,
		PreflightStatus:  204,
	}}
	if p.Preflight {
		sc.API.MaxAge = &p.MaxAge
	}
	if p.Bucket != nil && len(p.Bucket.Origins) == 1 && p.Bucket.Origins[0] == "null" {
		sc.API.Redirect = 303
		sc.Bucket = &struct {
			CORS []s3cors.Rule `json:"cors"`
		}{BucketRules(p)}
	}
	b, _ := json.MarshalIndent(sc, "", "  ")
	return append(b, '\n')
}

// BucketRules is p's S3 bucket configuration, one rule.
func BucketRules(p *Policy) []s3cors.Rule {
	if p.Bucket == nil {
		return nil
	}
	// Empty lists, not nil: a corslab scenario takes [] and refuses null.
	r := s3cors.Rule{
		AllowedOrigins: p.Bucket.Origins,
		AllowedMethods: p.Bucket.Methods,
		AllowedHeaders: append([]string{}, p.Bucket.Headers...),
		ExposeHeaders:  append([]string{}, p.Bucket.Expose...),
	}
	if p.Bucket.MaxAge > 0 {
		r.MaxAgeSeconds = &p.Bucket.MaxAge
	}
	return []s3cors.Rule{r}
}

// S3JSON is p's bucket configuration as the aws command line takes it.
func S3JSON(p *Policy) string {
	type rule struct {
		AllowedOrigins []string
		AllowedMethods []string
		AllowedHeaders []string `json:",omitempty"`
		ExposeHeaders  []string `json:",omitempty"`
		MaxAgeSeconds  int      `json:",omitempty"`
	}
	b := p.Bucket
	cfg := struct{ CORSRules []rule }{[]rule{{b.Origins, b.Methods, b.Headers, b.Expose, b.MaxAge}}}
	out, _ := json.MarshalIndent(cfg, "", "  ")
	return string(out) + "\n"
}

// NginxMaps are the map blocks (http context) that turn $http_origin into
// the values to send: the origin itself when it is on the list, else ""
// (nginx's add_header sends no header with an empty value).
func NginxMaps(p *Policy) string {
	var b strings.Builder
	b.WriteString("# In http { }: the allowlist, compared exactly.\nmap $http_origin $cors_origin {\n    default \"\";\n")
	for _, o := range p.Origins {
		fmt.Fprintf(&b, "    %q $http_origin;\n", o)
	}
	b.WriteString("}\n")
	if p.Credentials {
		b.WriteString("map $http_origin $cors_credentials {\n    default \"\";\n")
		for _, o := range p.Origins {
			fmt.Fprintf(&b, "    %q true;\n", o)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// NginxLocation is the location block (server context) for path, proxying
// to upstream. It answers preflights itself with 204; add_header … always
// puts the headers on error answers too, and the if block repeats the
// common headers because add_header in a block replaces those inherited.
func NginxLocation(p *Policy, path, upstream string) string {
	var common strings.Builder
	common.WriteString("add_header Access-Control-Allow-Origin $cors_origin always;\n")
	if p.Credentials {
		common.WriteString("add_header Access-Control-Allow-Credentials $cors_credentials always;\n")
	}
	common.WriteString("add_header Vary Origin always;\n")
	var b strings.Builder
	fmt.Fprintf(&b, "# In server { }.\nlocation %s {\n", path)
	if p.Preflight {
		b.WriteString("    # The preflight: answer it here, without the backend.\n    if ($request_method = OPTIONS) {\n")
		b.WriteString(indent(common.String(), "        "))
		if len(p.AllowMethods) > 0 {
			fmt.Fprintf(&b, "        add_header Access-Control-Allow-Methods %q always;\n", strings.Join(p.AllowMethods, ", "))
		}
		if len(p.AllowHeaders) > 0 {
			fmt.Fprintf(&b, "        add_header Access-Control-Allow-Headers %q always;\n", strings.Join(p.AllowHeaders, ", "))
		}
		fmt.Fprintf(&b, "        add_header Access-Control-Max-Age %d always;\n", p.MaxAge)
		b.WriteString("        return 204;\n    }\n")
	}
	b.WriteString(indent(common.String(), "    "))
	if len(p.Expose) > 0 {
		fmt.Fprintf(&b, "    add_header Access-Control-Expose-Headers %q always;\n", strings.Join(p.Expose, ", "))
	}
	fmt.Fprintf(&b, "    proxy_pass %s;\n}\n", upstream)
	return b.String()
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(by + l)
		}
	}
	return b.String()
}

// Express is p as options of the npm cors package, applied to every route.
// allowedHeaders is always given: left out, the package echoes whatever a
// preflight asks for.
func Express(p *Policy) string {
	var b strings.Builder
	b.WriteString("const express = require('express');\nconst cors = require('cors');\n\nconst app = express();\napp.use(cors({\n")
	fmt.Fprintf(&b, "  origin: %s, // compared exactly; Vary: Origin is sent for you\n", jsList(p.Origins))
	fmt.Fprintf(&b, "  methods: %s,\n", jsList(methods(p)))
	fmt.Fprintf(&b, "  allowedHeaders: %s, // never leave it out: cors would echo any header asked for\n", jsList(p.AllowHeaders))
	if len(p.Expose) > 0 {
		fmt.Fprintf(&b, "  exposedHeaders: %s,\n", jsList(p.Expose))
	}
	if p.Credentials {
		b.WriteString("  credentials: true,\n")
	}
	if p.Preflight {
		fmt.Fprintf(&b, "  maxAge: %d,\n", p.MaxAge)
	}
	b.WriteString("}));\n// Your routes follow.\n")
	return b.String()
}

// methods is the method list for servers that check the actual request's
// method too (rs/cors) or send the list with every preflight (Express):
// the request's own method.
func methods(p *Policy) []string {
	if len(p.AllowMethods) > 0 {
		return p.AllowMethods
	}
	return []string{p.Method}
}

func jsList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func goList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// RsCorsOptions is p as rs/cors options. rs/cors checks the method of the
// actual request too, so AllowedMethods holds the request's method even
// when it is safelisted. With no request header to allow, AllowedHeaders
// is left empty and rs/cors allows its defaults (Accept, Content-Type,
// X-Requested-With): it has no way to allow none.
func RsCorsOptions(p *Policy) rscors.Options {
	o := rscors.Options{
		AllowedOrigins:   p.Origins,
		AllowedMethods:   methods(p),
		AllowedHeaders:   p.AllowHeaders,
		ExposedHeaders:   p.Expose,
		AllowCredentials: p.Credentials,
	}
	if p.Preflight {
		o.MaxAge = p.MaxAge
	}
	return o
}

// RsCors is RsCorsOptions as Go source.
func RsCors(p *Policy) string {
	o := RsCorsOptions(p)
	var b strings.Builder
	b.WriteString("import \"github.com/rs/cors\"\n\n// Vary: Origin is sent for you.\nc := cors.New(cors.Options{\n")
	fmt.Fprintf(&b, "\tAllowedOrigins: %s,\n", goList(o.AllowedOrigins))
	fmt.Fprintf(&b, "\tAllowedMethods: %s,\n", goList(o.AllowedMethods))
	if len(o.AllowedHeaders) > 0 {
		fmt.Fprintf(&b, "\tAllowedHeaders: %s,\n", goList(o.AllowedHeaders))
	}
	if len(o.ExposedHeaders) > 0 {
		fmt.Fprintf(&b, "\tExposedHeaders: %s,\n", goList(o.ExposedHeaders))
	}
	if o.AllowCredentials {
		b.WriteString("\tAllowCredentials: true,\n")
	}
	if o.MaxAge > 0 {
		fmt.Fprintf(&b, "\tMaxAge: %d,\n", o.MaxAge)
	}
	b.WriteString("})\nhandler = c.Handler(handler)\n")
	return gofmtAlign(b.String())
}

// Jub0bsConfig is p as a jub0bs/cors configuration. It tolerates insecure
// origins only when the policy needs it: credentials for an http origin
// other than loopback, which the package otherwise refuses.
func Jub0bsConfig(p *Policy) jub0bs.Config {
	c := jub0bs.Config{
		Origins:         p.Origins,
		Credentialed:    p.Credentials,
		Methods:         p.AllowMethods,
		RequestHeaders:  p.AllowHeaders,
		ResponseHeaders: p.Expose,
	}
	if p.Preflight {
		c.MaxAgeInSeconds = p.MaxAge
	}
	c.DangerouslyTolerateInsecureOrigins = insecureCredentialed(p)
	return c
}

func insecureCredentialed(p *Policy) bool {
	if !p.Credentials {
		return false
	}
	for _, o := range p.Origins {
		if strings.HasPrefix(o, "http://") && !loopback(o) {
			return true
		}
	}
	return false
}

// Jub0bs is Jub0bsConfig as Go source.
func Jub0bs(p *Policy) string {
	c := Jub0bsConfig(p)
	var b strings.Builder
	b.WriteString("import \"github.com/jub0bs/cors\"\n\n// Vary: Origin is sent for you; NewMiddleware refuses a dangerous policy.\ncorsMw, err := cors.NewMiddleware(cors.Config{\n")
	fmt.Fprintf(&b, "\tOrigins: %s,\n", goList(c.Origins))
	if c.Credentialed {
		b.WriteString("\tCredentialed: true,\n")
	}
	if len(c.Methods) > 0 {
		fmt.Fprintf(&b, "\tMethods: %s,\n", goList(c.Methods))
	}
	if len(c.RequestHeaders) > 0 {
		fmt.Fprintf(&b, "\tRequestHeaders: %s,\n", goList(c.RequestHeaders))
	}
	if c.MaxAgeInSeconds > 0 {
		fmt.Fprintf(&b, "\tMaxAgeInSeconds: %d,\n", c.MaxAgeInSeconds)
	}
	if len(c.ResponseHeaders) > 0 {
		fmt.Fprintf(&b, "\tResponseHeaders: %s,\n", goList(c.ResponseHeaders))
	}
	if c.DangerouslyTolerateInsecureOrigins {
		b.WriteString("\tExtraConfig: cors.ExtraConfig{\n\t\t// An http origin with credentials: prefer https.\n\t\tDangerouslyTolerateInsecureOrigins: true,\n\t},\n")
	}
	b.WriteString("})\nif err != nil {\n\tlog.Fatal(err)\n}\nhandler = corsMw.Wrap(handler)\n")
	return gofmtAlign(b.String())
}

// gofmtAlign aligns the values of consecutive "\tKey: value," lines at one
// depth, as gofmt does, so that the snippet pastes as formatted code.
func gofmtAlign(src string) string {
	lines := strings.Split(src, "\n")
	var out bytes.Buffer
	for i := 0; i < len(lines); {
		j, width := i, 0
		for j < len(lines) && alignable(lines[j]) {
			k, _, _ := strings.Cut(lines[j], ":")
			width = max(width, len(k))
			j++
		}
		if j == i {
			out.WriteString(lines[i])
			if i < len(lines)-1 {
				out.WriteByte('\n')
			}
			i++
			continue
		}
		for ; i < j; i++ {
			k, v, _ := strings.Cut(lines[i], ":")
			fmt.Fprintf(&out, "%s:%s%s\n", k, strings.Repeat(" ", width-len(k)+1), strings.TrimLeft(v, " "))
		}
	}
	return out.String()
}

// alignable is a one-level "\tKey: value," line.
func alignable(l string) bool {
	k, v, ok := strings.Cut(l, ":")
	return ok && strings.HasPrefix(k, "\t") && !strings.HasPrefix(k, "\t\t") && !strings.Contains(k, " ") && strings.HasSuffix(v, ",") && !strings.HasSuffix(v, "{")
}
