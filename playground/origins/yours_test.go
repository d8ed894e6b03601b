package origins

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// seen is what an upstream received.
type seen struct {
	mu     sync.Mutex
	host   string
	uri    string
	header http.Header
	body   string
}

// newYours starts an upstream answering with answer, and the yours origin
// in front of it (cfg, with base as the session's yours.baseUrl; "" means
// the upstream's URL, "-" none). It returns the yours origin's session base URL and
// what the upstream saw, and notes corslab's own refusals in refused.
func newYours(t *testing.T, cfg YoursConfig, base string, answer http.HandlerFunc) (string, *seen, *[]string) {
	t.Helper()
	got := &seen{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.host, got.uri, got.header, got.body = r.Host, r.RequestURI, r.Header.Clone(), string(body)
		got.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(up.Close)
	switch base {
	case "":
		base = up.URL
	case "-":
		base = "" // the session names no upstream
	}
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sc := scenario.Default()
	sc.Request.Target = "yours"
	sc.Yours.BaseURL = base
	sess, err := st.Create(sc)
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	var mu sync.Mutex
	cfg.Refused = func(r *http.Request, status int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		refused = append(refused, fmt.Sprintf("%d %s", status, msg))
	}
	h := Yours(cfg)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), sess)))
	}))
	t.Cleanup(front.Close)
	return front.URL + "/" + sess.ID, got, &refused
}

// rawExchange sends a raw HTTP/1.1 request and returns the raw response.
func rawYoursExchange(t *testing.T, base, raw string) string {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestYoursForwardsUntouched(t *testing.T) {
	base, got, refused := newYours(t, YoursConfig{}, "", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("X-Upstream", "  spaced  value")
		h.Set("Connection", "X-Hop")
		h.Set("X-Hop", "dropped")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Location", "https://elsewhere.example/next")
		h.Set("Set-Cookie", "site=1; Path=/")
		w.WriteHeader(201)
		io.WriteString(w, "created")
	})
	u, _ := url.Parse(base)
	id := strings.TrimPrefix(u.Path, "/")
	body := `{"a":1}`
	raw := rawYoursExchange(t, base, "POST /"+id+"/v1/items%2Fx?q=1&r HTTP/1.1\r\n"+
		"Host: "+u.Host+"\r\n"+
		"Origin: http://127.0.0.1:8081\r\n"+
		"Cookie: login=corslab-secret\r\n"+
		"Connection: close, X-Named\r\n"+
		"X-Named: dropped\r\n"+
		"Keep-Alive: 300\r\n"+
		"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
		"Te: trailers\r\n"+
		"X-Custom: kept\r\n"+
		"Authorization: Bearer learner-set\r\n"+
		"Content-Type: application/json\r\n"+
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))+body)

	got.mu.Lock()
	defer got.mu.Unlock()
	if got.uri != "/v1/items%2Fx?q=1&r" {
		t.Errorf("upstream's request target = %q, want /v1/items%%2Fx?q=1&r", got.uri)
	}
	if strings.HasPrefix(got.host, "127.0.0.1:") && got.host == u.Host {
		t.Errorf("upstream saw Host %q, the yours origin's; want its own", got.host)
	}
	for _, name := range []string{"Cookie", "X-Named", "Keep-Alive", "Proxy-Authorization", "Te", "Connection"} {
		if v, ok := got.header[name]; ok && !(name == "Connection" && len(v) == 0) {
			t.Errorf("upstream got %s: %q; hop-by-hop headers and Cookie are not forwarded", name, v)
		}
	}
	for name, want := range map[string]string{
		"Origin": "http://127.0.0.1:8081", "X-Custom": "kept", "Authorization": "Bearer learner-set",
		"Content-Type": "application/json", "Via": yoursVia, "User-Agent": "",
	} {
		if v := got.header.Get(name); v != want {
			t.Errorf("upstream got %s: %q, want %q", name, v, want)
		}
	}
	if _, ok := got.header["Accept-Encoding"]; ok {
		t.Errorf("upstream got Accept-Encoding %q; the browser sent none", got.header["Accept-Encoding"])
	}
	if got.body != body {
		t.Errorf("upstream got body %q, want %q", got.body, body)
	}

	head, respBody, _ := strings.Cut(raw, "\r\n\r\n")
	for _, want := range []string{
		"HTTP/1.1 201 Created", "\r\nAccess-Control-Allow-Origin: http://127.0.0.1:8081\r\n",
		"\r\nX-Upstream: spaced  value\r\n", "\r\nLocation: https://elsewhere.example/next\r\n",
		"\r\nSet-Cookie: site=1; Path=/\r\n", "\r\nContent-Type: text/plain; charset=utf-8\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("response head lacks %q:\n%s", want, head)
		}
	}
	for _, gone := range []string{"X-Hop", "Keep-Alive"} {
		if strings.Contains(head, "\r\n"+gone+":") {
			t.Errorf("response head has hop-by-hop %s:\n%s", gone, head)
		}
	}
	if respBody != "created" {
		t.Errorf("response body = %q, want %q", respBody, "created")
	}
	if len(*refused) != 0 {
		t.Errorf("refused: %q", *refused)
	}
}

func TestYoursAddsNothingOfItsOwn(t *testing.T) {
	base, _, _ := newYours(t, YoursConfig{}, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header()["Content-Type"] = nil
		io.WriteString(w, "<html>no type</html>")
	})
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, name := range []string{"Content-Type", "Date", "Cache-Control"} {
		if v, ok := resp.Header[name]; ok {
			t.Errorf("the yours origin added %s: %q; the upstream sent none", name, v)
		}
	}
}

func TestYoursRefusals(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}
	big := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, strings.Repeat("x", 2048)) }
	bigChunked := func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			io.WriteString(w, strings.Repeat("x", 512))
			w.(http.Flusher).Flush()
		}
	}
	tests := []struct {
		desc       string
		cfg        YoursConfig
		base       string
		answer     http.HandlerFunc
		req        func(base string) *http.Request
		wantStatus int
		wantMsg    string
	}{
		{"no base URL", YoursConfig{}, "-", ok, get("/"), 404, "names none"},
		{"off in a workshop", YoursConfig{Off: "corslab: off; --allow-targets"}, "", ok, get("/"), 403, "--allow-targets"},
		{"a timeout", YoursConfig{Timeout: 100 * time.Millisecond}, "", slow, get("/"), 504, "did not answer within 100ms"},
		{"a response over the cap", YoursConfig{MaxBody: 1024}, "", big, get("/"), 502, "passes on at most 1024"},
		{"a request body over the cap", YoursConfig{MaxBody: 16}, "", ok, post(strings.Repeat("y", 17)), 413, "at most 16 bytes"},
		{"a loop", YoursConfig{}, "", ok, func(base string) *http.Request {
			r := get("/")(base)
			r.Header.Set("Via", "1.1 corslab-yours")
			return r
		}, 508, "points back"},
		{"an upstream that is down", YoursConfig{}, "http://127.0.0.1:1", ok, get("/"), 502, "could not reach http://127.0.0.1:1/"},
		{"an address outside the networks", YoursConfig{Targets: mustTargets(t, "10.0.0.0/8")}, "", ok, get("/"), 403, "127.0.0.1 is not among"},
		{"a name that resolves to loopback", YoursConfig{Targets: mustTargets(t, "api.test"), Resolve: resolveTo("127.0.0.1")}, "http://api.test:1", ok, get("/"), 403, "api.test resolves to 127.0.0.1"},
		{"a name that resolves to the metadata service", YoursConfig{Targets: mustTargets(t, "api.test"), Resolve: resolveTo("169.254.169.254")}, "http://api.test:80", ok, get("/"), 403, "resolves to 169.254.169.254"},
		{"a name not on the list resolving into no network", YoursConfig{Targets: mustTargets(t, "other.test,10.0.0.0/8"), Resolve: resolveTo("127.0.0.1")}, "http://api.test:1", ok, get("/"), 403, "api.test resolves to 127.0.0.1"},
		{"a chunked response over the cap is cut", YoursConfig{MaxBody: 1024}, "", bigChunked, get("/"), -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			base, _, refused := newYours(t, tt.cfg, tt.base, tt.answer)
			resp, err := http.DefaultClient.Do(tt.req(base))
			if tt.wantStatus == -1 {
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil {
					t.Fatal("the over-long answer was read whole; want a broken connection")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantMsg) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantMsg)
			}
			if len(*refused) != 1 || !strings.HasPrefix((*refused)[0], fmt.Sprint(tt.wantStatus)) {
				t.Errorf("refusals noted: %q, want one of %d", *refused, tt.wantStatus)
			}
		})
	}
}

func TestYoursAllowsListedTargets(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	for _, tt := range []struct {
		desc, targets string
		resolve       func(context.Context, string) ([]netip.Addr, error)
		base          func(up string) string
	}{
		{"its network", "127.0.0.0/8", nil, func(up string) string { return up }},
		{"its address", "127.0.0.1", nil, func(up string) string { return up }},
		{"a name resolving into a listed network", "10.0.0.0/8,127.0.0.1/32", resolveTo("127.0.0.1"), func(up string) string {
			return strings.Replace(up, "127.0.0.1", "anything.test", 1)
		}},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			base, got, _ := newYoursAt(t, YoursConfig{Targets: mustTargets(t, tt.targets), Resolve: tt.resolve}, tt.base, ok)
			resp, err := http.Get(base + "/x")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok" {
				t.Errorf("got %d %q, want 200 ok", resp.StatusCode, body)
			}
			got.mu.Lock()
			defer got.mu.Unlock()
			if tt.resolve != nil && !strings.HasPrefix(got.host, "anything.test:") {
				t.Errorf("upstream saw Host %q, want the base URL's anything.test", got.host)
			}
		})
	}
}

// newYoursAt is newYours with a base URL made from the upstream's.
func newYoursAt(t *testing.T, cfg YoursConfig, base func(up string) string, answer http.HandlerFunc) (string, *seen, *[]string) {
	t.Helper()
	got := &seen{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.mu.Lock()
		got.host = r.Host
		got.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(up.Close)
	front, _, refused := newYours(t, cfg, base(up.URL), answer)
	return front, got, refused
}

func TestUpstreamURL(t *testing.T) {
	tests := []struct{ base, in, want string }{
		{"http://up.test", "/s/users?a=1", "http://up.test/users?a=1"},
		{"http://up.test/v1/", "/s/users", "http://up.test/v1/users"},
		{"http://up.test/v1", "/s", "http://up.test/v1"},
		{"http://up.test", "/s", "http://up.test/"},
		{"https://up.test:8443/v1", "/s//other.test/x", "https://up.test:8443/v1//other.test/x"},
		{"http://up.test", "/s/a%2Fb%20c", "http://up.test/a%2Fb%20c"},
	}
	for _, tt := range tests {
		in, _ := url.Parse(tt.in)
		got, err := upstreamURL(tt.base, in, "s")
		if err != nil || got.String() != tt.want {
			t.Errorf("upstreamURL(%q, %q) = %v, %v; want %s", tt.base, tt.in, got, err, tt.want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		list, want, err string
	}{
		{"api.example.com", "api.example.com", ""},
		{"API.Example.com., 10.0.0.0/8 ,192.0.2.7,2001:db8::/32,::1", "api.example.com,10.0.0.0/8,192.0.2.7,2001:db8::/32,::1", ""},
		{"10.1.2.3/8", "10.0.0.0/8", ""},
		{"", "", "names no host or network"},
		{" , ", "", "names no host or network"},
		{"https://api.example.com", "", `"https://api.example.com" is not a network`},
		{"api.example.com:443", "", `"api.example.com:443" is not a host name`},
		{"10.0.0.0/33", "", `"10.0.0.0/33" is not a network`},
		{"under_score.example", "", "is not a host name"},
	}
	for _, tt := range tests {
		got, err := ParseTargets(tt.list)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTargets(%q) = %v, want an error with %q", tt.list, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTargets(%q) = %v, %v; want %s", tt.list, got, err, tt.want)
		}
	}
}

func TestTargetsAllows(t *testing.T) {
	tg := mustTargets(t, "api.example.com,10.0.0.0/8,127.0.0.1")
	tests := []struct {
		host, ip string
		want     bool
	}{
		{"api.example.com", "203.0.113.9", true},
		{"API.example.com.", "203.0.113.9", true},
		{"other.example.com", "203.0.113.9", false},
		{"other.example.com", "10.9.8.7", true},
		{"api.example.com", "127.0.0.2", false}, // a name cannot lead to loopback…
		{"api.example.com", "127.0.0.1", true},  // …unless the address is listed
		{"api.example.com", "169.254.169.254", false},
		{"api.example.com", "0.0.0.0", false},
		{"api.example.com", "::ffff:10.1.1.1", true},
		{"10.1.1.1", "10.1.1.1", true},
		{"192.168.1.1", "192.168.1.1", false},
	}
	for _, tt := range tests {
		if got := tg.Allows(tt.host, netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Allows(%q, %s) = %v, want %v", tt.host, tt.ip, got, tt.want)
		}
	}
	var any *Targets
	if !any.Allows("x.test", netip.MustParseAddr("127.0.0.1")) {
		t.Error("nil Targets refused an address; it allows any")
	}
}

func mustTargets(t *testing.T, list string) *Targets {
	t.Helper()
	tg, err := ParseTargets(list)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func resolveTo(ip string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(ip)}, nil
	}
}

func get(path string) func(base string) *http.Request {
	return func(base string) *http.Request {
		r, _ := http.NewRequest("GET", base+path, nil)
		return r
	}
}

func post(body string) func(base string) *http.Request {
	return func(base string) *http.Request {
		r, _ := http.NewRequest("POST", base+"/", strings.NewReader(body))
		return r
	}
}
