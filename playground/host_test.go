package playground

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRequestHost(t *testing.T) {
	tests := []struct {
		desc, host, want string
	}{
		{"an IPv4 address and port", "127.0.0.1:8080", "127.0.0.1"},
		{"a name and port", "localhost:8080", "localhost"},
		{"a name without port", "corslab.localhost", "corslab.localhost"},
		{"a name with its final dot", "promo.corslab.localhost.:8081", "promo.corslab.localhost."},
		{"upper case is kept", "CORSLAB.LAN:8080", "CORSLAB.LAN"},
		{"an empty port (RFC 3986 allows it)", "localhost:", "localhost"},
		{"an IPv6 address and port", "[::1]:8080", "::1"},
		{"an IPv6 address without port", "[::1]", "::1"},
		{"an IPv4-mapped IPv6 address", "[::ffff:127.0.0.1]:8080", "::ffff:127.0.0.1"},
		{"no Host at all", "", ""},
		{"only a port", ":8080", ""},
		{"an underscore", "re_bind.attacker.example:8080", ""},
		{"too many colons", "a:1:2", ""},
		{"an IPv6 address without brackets", "::1", ""},
		{"an IPv6 address without brackets, with a port", "::1:8080", ""},
		{"an IPv4 address in brackets", "[127.0.0.1]:8080", ""},
		{"an IPv6 address with a zone", "[fe80::1%25eth0]:8080", ""},
		{"an unclosed bracket", "[::1:8080", ""},
		{"text after the brackets", "[::1]x:8080", ""},
		{"a port that is no number", "localhost:http", ""},
		{"markup", "<script>:8080", ""},
		{"an empty label", "corslab..localhost", ""},
		{"a label that starts with '-'", "-corslab.localhost", ""},
		{"a label that ends with '-'", "corslab-.localhost", ""},
		{"a label of 64 characters", strings.Repeat("a", 64) + ".localhost", ""},
		{"a lone dot", ".", ""},
		{"a space", "local host", ""},
		{"user info", "user@localhost:8080", ""},
	}
	for _, tc := range tests {
		if got := requestHost(tc.host); got != tc.want {
			t.Errorf("%s: requestHost(%q) = %q, want %q", tc.desc, tc.host, got, tc.want)
		}
	}
}

// rawResponse sends raw bytes to addr on a fresh connection and returns the
// response's status and body.
func rawResponse(t testing.TB, addr, raw string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHostThatIsNoHostNameIsRefused sends the Host headers a browser never
// would, on raw connections (net/http's client cleans them up), to every
// origin: none may be taken for localhost.
func TestHostThatIsNoHostNameIsRefused(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicHost: "corslab.lan",
	})
	const firstLine = "corslab answers to IP addresses, localhost names and its --public-host, not to "
	tests := []struct {
		desc    string
		request string // %s is the origin's port
		want    int
		says    string // in the body of a refusal
	}{
		{"a name with an underscore", "GET / HTTP/1.1\r\nHost: re_bind.attacker.example:%s\r\n\r\n", http.StatusMisdirectedRequest, "not a host name or an IP address"},
		{"a Host with three colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", http.StatusMisdirectedRequest, "not a host name or an IP address"},
		{"an IPv6 address without brackets", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", http.StatusMisdirectedRequest, "not a host name or an IP address"},
		{"an empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", http.StatusMisdirectedRequest, "names no host"},
		{"HTTP/1.0 without a Host", "GET / HTTP/1.0\r\n\r\n", http.StatusMisdirectedRequest, "names no host"},
		{"a rebinding name", "GET / HTTP/1.1\r\nHost: rebind.attacker.example:%s\r\n\r\n", http.StatusMisdirectedRequest, "--public-host rebind.attacker.example.\n"},
		{"a rebinding name with its final dot", "GET / HTTP/1.1\r\nHost: rebind.attacker.example.:%s\r\n\r\n", http.StatusMisdirectedRequest, "--public-host rebind.attacker.example.\n"},
		// The names corslab answers to still work.
		{"an IPv6 address", "GET / HTTP/1.1\r\nHost: [::1]:%s\r\n\r\n", 0, ""},
		{"an IPv6 address on HTTP/1.0, without port", "GET / HTTP/1.0\r\nHost: [::1]\r\n\r\n", 0, ""},
		{"the loopback address", "GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n", 0, ""},
		{"the public host", "GET / HTTP/1.1\r\nHost: corslab.lan:%s\r\n\r\n", 0, ""},
	}
	for role := range numRoles {
		port := strconv.Itoa(srv.Port(role))
		for _, tc := range tests {
			raw := tc.request
			if strings.Contains(raw, "%s") {
				raw = strings.Replace(raw, "%s", port, 1)
			}
			status, body := rawResponse(t, "127.0.0.1:"+port, raw)
			if tc.want == 0 {
				if status == http.StatusMisdirectedRequest {
					t.Errorf("%s on %s: refused: %q", tc.desc, role, body)
				}
				continue
			}
			if status != tc.want || !strings.HasPrefix(body, firstLine) || !strings.Contains(body, tc.says) {
				t.Errorf("%s on %s: %d %q, want %d saying %q", tc.desc, role, status, body[:min(len(body), 200)], tc.want, tc.says)
			}
			if tc.says != "" && !strings.HasPrefix(tc.says, "--public-host") && strings.Contains(body, "start corslab with --public-host") {
				t.Errorf("%s on %s: suggests a --public-host no name could be: %q", tc.desc, role, body)
			}
		}
	}
}
