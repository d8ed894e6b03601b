// Package lesson reads corslab's curriculum: one Markdown file per lesson,
// with YAML front matter that holds its starting scenario, the goals it
// checks against live traffic, hints, links and a solution. The format and
// the goal vocabulary are documented in lessons/README.md.
package lesson

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"go.yaml.in/yaml/v3"

	"github.com/corslab/corslab/playground/scenario"
)

// Tracks, in the order the index shows them.
var tracks = []struct{ ID, Title string }{
	{"basics", "Basics"},
	{"credentials", "Credentials"},
	{"s3", "S3 and redirects"},
	{"attacks", "Attacks"},
	{"doors", "Beyond fetch()"},
}

// Tracks returns the track ids and titles, in index order.
func Tracks() []struct{ ID, Title string } { return slices.Clone(tracks) }

// Lesson is one lesson, parsed and checked.
type Lesson struct {
	Slug    string
	Title   string
	Order   int
	Track   string
	Summary string
	// Scenario is the lesson's start as permalink keys over the default
	// scenario. Values may name the origins as {app}, {api}, {s3} and
	// {evil}, and their hosts with ports as {appHost}, {apiHost}, {s3Host}
	// and {evilHost} ("127.0.0.1:8081"); Start fills them in for the host
	// the learner uses.
	Scenario url.Values
	// Host, when set, is the host name under .localhost the lesson needs
	// the lab on (corslab.localhost): its origins are then one site of
	// their own, with subdomains an attacker could hold. The lesson page
	// moves there from another loopback host.
	Host     string
	Show     []string // field paths the form shows; empty shows every field
	Lock     []string // field paths shown but not editable
	Goals    []Goal
	Hints    []string
	Links    []Link
	Solution []Step
	HTML     string // the Markdown body, rendered
	File     string // where it came from, for messages
}

// Link is a reference for further reading.
type Link struct {
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
}

// Step is one step of a lesson's solution: a patch of permalink keys on
// top of the scenario as it is, then (unless Run is false) one run. With
// Curl, the request is instead sent from outside any browser, as the lab's
// "Copy as curl" command would: no Origin, no CORS.
type Step struct {
	Set  url.Values
	Run  bool
	Curl bool
}

// frontMatter is the YAML a lesson file starts with.
type frontMatter struct {
	Slug     string            `yaml:"slug"`
	Title    string            `yaml:"title"`
	Order    int               `yaml:"order"`
	Track    string            `yaml:"track"`
	Summary  string            `yaml:"summary"`
	Host     string            `yaml:"host"`
	Scenario map[string]values `yaml:"scenario"`
	Show     []string          `yaml:"show"`
	Lock     []string          `yaml:"lock"`
	Goals    []Goal            `yaml:"goals"`
	Hints    []string          `yaml:"hints"`
	Links    []Link            `yaml:"links"`
	Solution []struct {
		Set  map[string]values `yaml:"set"`
		Run  *bool             `yaml:"run"`
		Curl bool              `yaml:"curl"`
	} `yaml:"solution"`
}

// values is a permalink value in YAML: a scalar, or a list for the keys
// that repeat (api.allowlist, a bucket rule's lists).
type values []string

func (v *values) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*v = values{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*v = list
		return nil
	}
	return fmt.Errorf("line %d: a setting is a value or a list of values", n.Line)
}

// Error is a problem with a lesson file, at a line of it.
type Error struct {
	File string
	Line int // 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Load reads every *.md lesson in dir of fsys, except README.md, sorted by
// order. A problem in any file is an error naming the file and line.
func Load(fsys fs.FS, dir string) ([]*Lesson, error) { return load(fsys, dir, "") }

// LoadDir is Load for a directory on disk; messages name the files by
// their path there.
func LoadDir(dir string) ([]*Lesson, error) { return load(os.DirFS(dir), ".", dir) }

func load(fsys fs.FS, dir, shownDir string) ([]*Lesson, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	var out []*Lesson
	var errs []error
	for _, name := range names {
		if path.Base(name) == "README.md" {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		l, err := Parse(filepath.Join(shownDir, filepath.FromSlash(name)), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Merge combines lesson sets: a later set's lesson replaces an earlier one
// with the same slug (an instructor's own version). The result is sorted by
// track, then order, then slug. Two lessons of one set with one slug are an
// error.
func Merge(sets ...[]*Lesson) ([]*Lesson, error) {
	bySlug := map[string]*Lesson{}
	for _, set := range sets {
		seen := map[string]string{}
		for _, l := range set {
			if other, ok := seen[l.Slug]; ok {
				return nil, &Error{File: l.File, Msg: fmt.Sprintf("slug %q is also %s's", l.Slug, other)}
			}
			seen[l.Slug] = l.File
			bySlug[l.Slug] = l
		}
	}
	out := make([]*Lesson, 0, len(bySlug))
	for _, l := range bySlug {
		out = append(out, l)
	}
	trackIndex := func(t string) int {
		return slices.IndexFunc(tracks, func(x struct{ ID, Title string }) bool { return x.ID == t })
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ta, tb := trackIndex(a.Track), trackIndex(b.Track); ta != tb {
			return ta < tb
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Slug < b.Slug
	})
	return out, nil
}

// Parse reads one lesson file: "---", YAML front matter, "---", Markdown.
func Parse(file string, data []byte) (*Lesson, error) {
	front, body, bodyLine, err := split(data)
	if err != nil {
		return nil, &Error{File: file, Line: 1, Msg: err.Error()}
	}
	fail := func(line int, format string, args ...any) error {
		return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}

	var root yaml.Node
	if err := yaml.Unmarshal(front, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if err := duplicateKey(file, &root); err != nil {
		return nil, err
	}
	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil {
		return nil, yamlError(file, err)
	}
	line := func(keys ...string) int { return lineOf(&root, keys...) + 1 } // +1: the opening ---

	l := &Lesson{
		Slug: fm.Slug, Title: fm.Title, Order: fm.Order, Track: fm.Track, Summary: fm.Summary, Host: fm.Host,
		Show: fm.Show, Lock: fm.Lock, Goals: fm.Goals, Hints: fm.Hints, Links: fm.Links, File: file,
	}
	if l.Slug == "" {
		l.Slug = slugFromFile(file)
	}
	switch {
	case !slugPattern.MatchString(l.Slug):
		return nil, fail(line("slug"), "slug %q: use lower-case letters, digits and single dashes", l.Slug)
	case strings.TrimSpace(l.Title) == "":
		return nil, fail(1, "title: every lesson needs one")
	case l.Order <= 0:
		return nil, fail(line("order"), "order: a whole number from 1, the lesson's place in its track")
	case !slices.ContainsFunc(tracks, func(t struct{ ID, Title string }) bool { return t.ID == l.Track }):
		return nil, fail(line("track"), "track %q: must be one of basics, credentials, s3, attacks, doors", l.Track)
	case strings.TrimSpace(l.Summary) == "":
		return nil, fail(1, "summary: every lesson needs one line for the index")
	}
	if l.Host != "" {
		if msg := scenario.CheckLocalhostName(l.Host); msg != "" {
			return nil, fail(line("host"), "host: %s", msg)
		}
	}

	l.Scenario = toQuery(fm.Scenario)
	if _, errs := scenario.FromQuery(withPlaceholders(l.Scenario)); errs != nil {
		key := firstKey(errs)
		return nil, fail(scenarioLine(&root, key)+1, "scenario: %s: %s", key, errs[key])
	}
	for i, field := range slices.Concat(l.Show, l.Lock) {
		if !knownField(field) {
			at := lineOfIndex(&root, "show", i)
			if i >= len(l.Show) {
				at = lineOfIndex(&root, "lock", i-len(l.Show))
			}
			return nil, fail(at+1, "show/lock: %q is not a scenario field (e.g. request.method, api, bucket.cors)", field)
		}
	}

	if len(l.Goals) == 0 {
		return nil, fail(line("goals"), "goals: a lesson needs at least one")
	}
	ids := map[string]bool{}
	for i, g := range l.Goals {
		gl := lineOfIndex(&root, "goals", i) + 1
		if err := g.check(ids); err != "" {
			return nil, fail(gl, "goal %d: %s", i+1, err)
		}
		ids[g.ID] = true
	}
	for i, link := range l.Links {
		if u, err := url.Parse(link.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || link.Title == "" {
			return nil, fail(lineOfIndex(&root, "links", i)+1, "link %d: needs a title and an http(s) url", i+1)
		}
	}

	if len(fm.Solution) == 0 {
		return nil, fail(line("solution"), "solution: every lesson needs one, so a test can prove it can be done")
	}
	start, _ := scenario.FromQuery(withPlaceholders(l.Scenario))
	for i, st := range fm.Solution {
		step := Step{Set: toQuery(st.Set), Run: !st.Curl && (st.Run == nil || *st.Run), Curl: st.Curl}
		next, errs := scenario.Patch(start, withPlaceholders(step.Set))
		if errs != nil {
			key := firstKey(errs)
			return nil, fail(lineOfIndex(&root, "solution", i)+1, "solution step %d: %s: %s", i+1, key, errs[key])
		}
		start = next
		l.Solution = append(l.Solution, step)
	}
	if err := l.checkSolutionFields(&root); err != nil {
		return nil, err
	}

	var html bytes.Buffer
	if err := goldmark.Convert(body, &html); err != nil {
		return nil, fail(bodyLine, "the Markdown does not render: %v", err)
	}
	l.HTML = html.String()
	return l, nil
}

// Start is the lesson's starting scenario with the origins filled in.
func (l *Lesson) Start(origins map[string]string) scenario.Scenario {
	s, _ := scenario.FromQuery(fill(l.Scenario, origins))
	return s
}

// StepQuery is a solution step's patch with the origins filled in.
func (s Step) Query(origins map[string]string) url.Values { return fill(s.Set, origins) }

// fill replaces {app}, {api}, {s3} and {evil} in every value, and
// {appHost}… with the host and port of each origin.
func fill(q url.Values, origins map[string]string) url.Values {
	pairs := make([]string, 0, 4*len(origins))
	for role, u := range origins {
		pairs = append(pairs, "{"+role+"}", u)
		if p, err := url.Parse(u); err == nil {
			pairs = append(pairs, "{"+role+"Host}", p.Host)
		}
	}
	r := strings.NewReplacer(pairs...)
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			out.Add(k, r.Replace(v))
		}
	}
	return out
}

// withPlaceholders fills the origins with stand-ins, to validate a lesson
// before any browser is known.
func withPlaceholders(q url.Values) url.Values {
	return fill(q, map[string]string{
		"app": "http://127.0.0.1:8081", "api": "http://127.0.0.1:8082",
		"s3": "http://127.0.0.1:8083", "evil": "http://127.0.0.1:8084",
	})
}

func toQuery(m map[string]values) url.Values {
	q := url.Values{}
	for k, vs := range m {
		q[k] = slices.Clone([]string(vs))
	}
	return q
}

func firstKey(errs scenario.FieldErrors) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0]
}

// fields are the scenario's field paths a lesson may show or lock; a
// group ("request", "api", "bucket", "yours") stands for all its fields.
var fields = []string{
	"setup", "request", "api", "bucket", "proxy", "yours",
	"request.from", "request.target", "request.method", "request.path", "request.headers",
	"request.body", "request.credentials", "request.mode", "request.redirect", "request.lookalikeHost",
	"request.via", "request.crossOrigin", "request.withCredentials", "request.enctype",
	"api.allowOrigin", "api.allowlist", "api.match", "api.allowCredentials", "api.allowMethods",
	"api.allowHeaders", "api.exposeHeaders", "api.maxAge", "api.vary", "api.preflightStatus",
	"api.extraHeaders", "api.redirect", "api.signedUrlExpires", "api.requireLogin", "api.cookieSameSite",
	"api.websocketOrigins", "api.requireJson",
	"bucket.cors", "proxy.addOrigin", "yours.baseUrl",
}

func knownField(p string) bool { return slices.Contains(fields, p) }

// covers says whether a list of field paths (show, lock) takes in a
// permalink key: the key is one of them, or lies below one
// ("request.headers.User-Id" below "request.headers" or "request",
// "bucket.cors.0.allowedOrigins" below "bucket.cors"). static/form.js's
// covers() decides the same for the form's fields.
func covers(paths []string, key string) bool {
	return slices.ContainsFunc(paths, func(p string) bool { return key == p || strings.HasPrefix(key, p+".") })
}

// checkSolutionFields makes sure a learner can do what the solution does:
// every setting a step changes is one the lesson page shows (an empty show
// shows them all) and does not lock. A solution that needs a hidden or
// locked field proves the lesson can be done only by someone who edits
// links by hand. The error points at the key, in the step's "set:".
func (l *Lesson) checkSolutionFields(root *yaml.Node) error {
	for i, step := range l.Solution {
		keys := make([]string, 0, len(step.Set))
		for k := range step.Set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var why string
			switch {
			case len(l.Show) > 0 && !covers(l.Show, k):
				why = "the lesson does not show it (add it to show:), so a learner could not change it"
			case covers(l.Lock, k):
				why = "the lesson locks it (lock:), so a learner could not change it"
			default:
				continue
			}
			return &Error{File: l.File, Line: solutionKeyLine(root, i, k) + 1, Msg: fmt.Sprintf("solution step %d: %s: %s", i+1, k, why)}
		}
	}
	return nil
}

// slugFromFile makes "03-preflight.md" into "preflight".
func slugFromFile(file string) string {
	name := strings.TrimSuffix(path.Base(file), ".md")
	if i := strings.IndexByte(name, '-'); i > 0 && strings.Trim(name[:i], "0123456789") == "" {
		name = name[i+1:]
	}
	return name
}

// split cuts a file into its front matter and body, and says on which line
// the body starts.
func split(data []byte) (front, body []byte, bodyLine int, err error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		return nil, nil, 0, errors.New(`a lesson starts with a line "---", then its YAML front matter, then "---"`)
	}
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		if bytes.HasSuffix(rest, []byte("\n---")) {
			end = len(rest) - 4
		} else {
			return nil, nil, 0, errors.New(`the front matter has no closing "---" line`)
		}
	}
	front = rest[:end+1]
	body = rest[min(len(rest), end+5):]
	return front, body, bytes.Count(front, []byte("\n")) + 3, nil
}

// yamlError turns the YAML library's "yaml: line N: …" into file:line.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	var n int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &n); scanErr == nil {
		rest := strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
		if strings.HasPrefix(rest, "did not find expected") {
			n++ // yaml.v3 numbers a parser error's line from 0, a scanner error's from 1
		}
		return &Error{File: file, Line: n + 1, Msg: rest}
	}
	return &Error{File: file, Line: 1, Msg: msg}
}

// duplicateKey reports the first key, in document order, that a mapping
// of the front matter repeats. Decoding into frontMatter would refuse it
// too, but the YAML library compares every pair of keys and words an error
// for each repeated pair: a file that repeats one key a few thousand times
// took minutes. A map makes the check linear.
func duplicateKey(file string, n *yaml.Node) error {
	type key struct {
		kind  yaml.Kind
		value string
	}
	var seen map[key]int // a key's first line, in a mapping
	if n.Kind == yaml.MappingNode {
		seen = make(map[key]int, len(n.Content)/2)
	}
	for i, c := range n.Content {
		if seen != nil && i%2 == 0 {
			k := key{c.Kind, c.Value}
			if first, ok := seen[k]; ok {
				// +1: the opening ---
				return &Error{File: file, Line: c.Line + 1, Msg: fmt.Sprintf("mapping key %q already defined at line %d", c.Value, first+1)}
			}
			seen[k] = c.Line
		}
		if err := duplicateKey(file, c); err != nil {
			return err
		}
	}
	return nil
}

// lineOf finds the line of the value at a path of mapping keys in a YAML
// document, or of the deepest key found; 1 if none.
func lineOf(doc *yaml.Node, keys ...string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

// lineOfIndex is the line of item i of the list under key.
func lineOfIndex(doc *yaml.Node, key string, i int) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			list := n.Content[j+1]
			if list.Kind == yaml.SequenceNode && i < len(list.Content) {
				return list.Content[i].Line
			}
			return n.Content[j].Line
		}
	}
	return 1
}

// solutionKeyLine is the line of key in the set: of solution step i, or
// the step's own line when the key is not found there.
func solutionKeyLine(doc *yaml.Node, i int, key string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		list := n.Content[j+1]
		if n.Content[j].Value != "solution" || list.Kind != yaml.SequenceNode || i >= len(list.Content) {
			continue
		}
		step := list.Content[i]
		for k := 0; k+1 < len(step.Content); k += 2 {
			if step.Content[k].Value != "set" {
				continue
			}
			set := step.Content[k+1]
			for q := 0; q+1 < len(set.Content); q += 2 {
				if set.Content[q].Value == key {
					return set.Content[q].Line
				}
			}
		}
	}
	return lineOfIndex(doc, "solution", i)
}

// scenarioLine is the line of a scenario key in the front matter. Errors
// about a header name are filed under request.headers or api.extraHeaders:
// the line of the first key below that is the one meant.
func scenarioLine(doc *yaml.Node, key string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "scenario" {
			continue
		}
		m := n.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			if k := m.Content[j].Value; k == key || strings.HasPrefix(k, key+".") {
				return m.Content[j].Line
			}
		}
		return n.Content[i].Line
	}
	return 1
}
