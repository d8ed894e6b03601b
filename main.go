// Command corslab is a CORS teaching playground: it runs several virtual
// origins on local ports, and a lab where your own browser makes real
// cross-origin requests while you watch every raw exchange.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mdp/qrterminal/v3"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	code := 1
	var exit *exitError
	if errors.As(err, &exit) {
		code = exit.code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(os.Stderr, "corslab:", msg)
	}
	stop()
	os.Exit(code)
}

// run starts corslab and serves until ctx is done; `corslab check …`
// probes a URL instead, `corslab scan …` looks for misconfigurations
// (check.go), and `corslab need …` works out the policy a page needs
// (need.go).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "check" {
		return runCheck(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "scan" {
		return runScan(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "need" {
		return runNeed(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("corslab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8080, "`port` of the playground UI; the app, api, s3, evil and yours origins take the next five")
	listen := fs.String("listen", "127.0.0.1", "`address` to listen on")
	open := fs.Bool("open", false, "open the lab in the default browser")
	maxSessions := fs.Int("max-sessions", 2000, "the most learner sessions alive at once")
	sessionIdle := fs.Duration("session-idle", 2*time.Hour, "a session unused for this `long` expires")
	publicHost := fs.String("public-host", "", "the `host` name or address learners use to reach this machine (workshops)")
	teachToken := fs.String("teach-token", "", "the `token` that opens the instructor's dashboard at /teach: 16 to 128 letters, digits and - . _ ~ (default: a random one in workshop mode)")
	sessionRate := fs.Float64("session-rate", playground.DefaultSessionRate, "`requests` a second one session may make, in bursts of twenty times as many (0: no limit)")
	replica := fs.Int("replica", -1, "this corslab's `number` (0 to 31) among replicas behind a router: session ids start with its letter (see deploy/README.md)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback `address`, e.g. 127.0.0.1:6060")
	ipRate := fs.Float64("ip-rate", playground.DefaultIPRate, "`requests` a second one client address may make, in bursts of twenty times as many (0: no limit)")
	memoryBudget := &sizeFlag{defaultMemoryBudget()}
	fs.Var(memoryBudget, "memory-budget", "the `size` all sessions together may keep (traffic, runs, bucket objects), e.g. 512MiB or 2GiB; older traffic is shed near it; the default is 1GiB, or a quarter of this machine's memory if less")
	ipSessions := fs.Int("ip-sessions", 300, "`sessions` one client address may open a minute, all at once if need be; a class behind one NAT address shares it (0: no limit)")
	lessonsDir := fs.String("lessons", "", "`dir`ectory of your own lessons (*.md), next to the built-in ones; one with a built-in lesson's slug replaces it")
	noBuiltin := fs.Bool("no-builtin-lessons", false, "serve only the lessons from --lessons")
	allowTargets := fs.String("allow-targets", "", "the `hosts` and networks the yours origin forwards to and the lab's Probe and Scan send to, comma-separated: api.example.com,10.1.2.0/24 (in workshop mode they are off without them)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: corslab [flags]\n       corslab check URL --origin O [flags] (see corslab check --help)\n       corslab scan URL --origin O [flags] (see corslab scan --help)\n       corslab need --origin O [flags] (see corslab need --help)\n\nRuns the CORS playground and its virtual origins, then prints the URL to open.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	case *port != 0 && (*port < 1 || *port > 65535-5):
		return fmt.Errorf("--port: must be from 1 to 65530 (corslab uses the port and the next five), got %d", *port)
	case net.ParseIP(*listen) == nil && *listen != "localhost":
		return fmt.Errorf("--listen: must be an IP address such as 127.0.0.1 or 0.0.0.0, got %q", *listen)
	case *maxSessions < 1:
		return fmt.Errorf("--max-sessions: must be at least 1, got %d", *maxSessions)
	case *noBuiltin && *lessonsDir == "":
		return errors.New("--no-builtin-lessons: needs --lessons DIR, or there would be no lessons")
	case *sessionIdle < 10*time.Second || *sessionIdle > 7*24*time.Hour:
		return fmt.Errorf("--session-idle: must be from 10s to 168h, got %s", *sessionIdle)
	case *replica < -1 || *replica >= session.MaxReplicas:
		return fmt.Errorf("--replica: must be from 0 to %d, got %d", session.MaxReplicas-1, *replica)
	case memoryBudget.n < minMemoryBudget:
		return fmt.Errorf("--memory-budget: must be at least 32MiB, got %s", memoryBudget)
	case *ipSessions < 0:
		return fmt.Errorf("--ip-sessions: must be 0 (no limit) or more, got %d", *ipSessions)
	case *sessionRate < 0 || *ipRate < 0:
		return errors.New("--session-rate, --ip-rate: must be 0 (no limit) or more")
	}
	if err := checkPublicHost(*publicHost, *listen); err != nil {
		return err
	}
	if err := checkToken(*teachToken); err != nil {
		return err
	}
	var targets *origins.Targets
	if *allowTargets != "" {
		t, err := origins.ParseTargets(*allowTargets)
		if err != nil {
			return fmt.Errorf("--allow-targets: %w", err)
		}
		targets = t
	}
	if *pprofAddr != "" {
		host, _, err := net.SplitHostPort(*pprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("--pprof: must be a loopback address with a port, such as 127.0.0.1:6060, got %q", *pprofAddr)
		}
	}
	workshop := *publicHost != "" || !isLoopback(*listen)
	if workshop && *teachToken == "" {
		*teachToken = randomToken()
	}
	curriculum, err := loadLessons(*lessonsDir, !*noBuiltin)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	limitMemory(memoryBudget.n, getenv)
	srv, err := playground.Listen(playground.Config{
		Listen:       *listen,
		Port:         *port,
		MaxSessions:  *maxSessions,
		SessionIdle:  *sessionIdle,
		Logger:       logger,
		Lessons:      curriculum,
		Workshop:     workshop,
		PublicHost:   *publicHost,
		TeachToken:   *teachToken,
		SessionRate:  ratelimit.PerSecond(*sessionRate),
		IPRate:       ratelimit.PerSecond(*ipRate),
		Replica:      replicaPrefix(*replica),
		IPSessions:   *ipSessions,
		MemoryBudget: memoryBudget.n,
		AllowTargets: targets,
	})
	if err != nil {
		return err
	}

	host := learnerHost(*publicHost, *listen)
	origin := func(r playground.Role) string {
		return "http://" + net.JoinHostPort(host, strconv.Itoa(srv.Port(r)))
	}
	lab := origin(playground.UI) + "/lab"
	if workshop {
		lessons := origin(playground.UI) + "/lessons"
		fmt.Fprintf(stdout, "corslab is running for a workshop. Learners open %s\n\n", lessons)
		qrterminal.GenerateHalfBlock(lessons, qrterminal.L, stdout)
		fmt.Fprintln(stdout)
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			fmt.Fprintf(stdout, "This address works only on this machine: found no LAN address. Start corslab with --public-host <the address learners use>.\n\n")
		}
	} else {
		fmt.Fprintf(stdout, "corslab is running. Open %s\n\n", lab)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, o := range []struct {
		role playground.Role
		what string
	}{
		{playground.UI, "the playground"},
		{playground.App, "the frontend: its pages run your fetch()"},
		{playground.API, "the API whose CORS headers you set"},
		{playground.S3, "a fake S3, one bucket per session"},
		{playground.Evil, "the attacker's site"},
		{playground.Yours, yoursLine(workshop, targets)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.role, origin(o.role), o.what)
	}
	tw.Flush()
	if *teachToken != "" {
		fmt.Fprintf(stdout, "\nInstructor's dashboard (keep this link to yourself):\n  %s/teach?token=%s\n", origin(playground.UI), url.QueryEscape(*teachToken))
	}
	fmt.Fprintf(stdout, "\nPress Ctrl-C to stop.\n")

	if *open {
		openBrowser(lab, logger)
	}
	if *pprofAddr != "" {
		go servePprof(ctx, *pprofAddr, logger)
	}
	err = srv.Serve(ctx)
	fmt.Fprintln(stdout, "corslab stopped.")
	return err
}

// yoursLine says in the start-up table where the yours origin forwards.
func yoursLine(workshop bool, targets *origins.Targets) string {
	switch {
	case targets != nil:
		return "forwards to your server (yours.baseUrl), only to " + targets.String()
	case workshop:
		return "off in a workshop: --allow-targets names the servers it may forward to"
	}
	return "forwards to your server (yours.baseUrl)"
}

// servePprof serves the profiler until ctx is done.
func servePprof(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("profiler listening", "url", "http://"+addr+"/debug/pprof/")
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("profiler", "err", err)
	}
}

// replicaPrefix is --replica's session id prefix; "" for none (-1).
func replicaPrefix(n int) string {
	if n < 0 {
		return ""
	}
	return session.ReplicaPrefix(n)
}

// isLoopback reports whether a --listen address only this machine reaches.
func isLoopback(listen string) bool {
	ip := net.ParseIP(listen)
	return listen == "localhost" || ip != nil && ip.IsLoopback()
}

// checkPublicHost validates --public-host: a bare host name or address,
// which other machines can only reach if corslab listens beyond loopback.
func checkPublicHost(host, listen string) error {
	if host == "" {
		return nil
	}
	if strings.Contains(host, "://") || strings.ContainsAny(host, ":/") && net.ParseIP(host) == nil {
		return fmt.Errorf("--public-host: must be a bare host name or IP address, with no scheme or port, got %q", host)
	}
	if net.ParseIP(host) == nil && !hostnameRE.MatchString(host) {
		return fmt.Errorf("--public-host: %q is not a valid host name (letters, digits, '-' and '.')", host)
	}
	if isLoopback(listen) && !strings.EqualFold(host, "localhost") && !(net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
		return fmt.Errorf("--public-host: learners cannot reach %s while corslab listens on %s only; add --listen 0.0.0.0", host, listen)
	}
	return nil
}

var hostnameRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// checkToken validates --teach-token: long enough not to be guessed, and
// plain enough to sit in a URL and a cookie.
func checkToken(token string) error {
	if token == "" {
		return nil
	}
	if len(token) < 16 || len(token) > 128 {
		return fmt.Errorf("--teach-token: must be 16 to 128 characters, got %d", len(token))
	}
	for _, c := range token {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-._~", c)) {
			return fmt.Errorf("--teach-token: may hold only letters, digits and - . _ ~")
		}
	}
	return nil
}

// randomToken is 128 random bits, for the dashboard's token.
func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// learnerHost is the host name to print in URLs: the public host, else the
// listen address, else (listening everywhere) this machine's first LAN
// address, so that the URL and QR code work from another machine.
func learnerHost(public, listen string) string {
	if public != "" {
		return public
	}
	ip := net.ParseIP(listen)
	if ip == nil || !ip.IsUnspecified() {
		return listen
	}
	if lan := lanAddress(); lan != "" {
		return lan
	}
	return "localhost"
}

// lanAddress is the first private IPv4 address of an interface that is up.
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsPrivate() {
			return n.IP.String()
		}
	}
	return ""
}

// loadLessons reads the built-in lessons and, from dir, an instructor's
// own. A malformed file stops start-up with file:line and what is wrong.
func loadLessons(dir string, builtin bool) ([]*lesson.Lesson, error) {
	var sets [][]*lesson.Lesson
	if builtin {
		l, err := lesson.Load(lessons.FS, ".")
		if err != nil {
			return nil, fmt.Errorf("built-in lessons: %w", err)
		}
		sets = append(sets, l)
	}
	if dir != "" {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("--lessons: %q is not a directory", dir)
		}
		l, err := lesson.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("--lessons: %w", err)
		}
		if len(l) == 0 {
			return nil, fmt.Errorf("--lessons: no lesson files (*.md) in %s", dir)
		}
		sets = append(sets, l)
	}
	return lesson.Merge(sets...)
}

// openBrowser asks the desktop to open url, without waiting for it.
func openBrowser(url string, log *slog.Logger) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		log.Warn("could not open a browser; open the URL yourself", "url", url, "err", err)
		return
	}
	go cmd.Wait()
}
