// Command corslab is a CORS teaching playground: it runs several virtual
// origins on local ports, and a lab where your own browser makes real
// cross-origin requests while you watch every raw exchange.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground"
	"github.com/corslab/corslab/playground/lesson"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "corslab:", err)
			os.Exit(1)
		}
	}
}

// run starts corslab and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("corslab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8080, "`port` of the playground UI; the app, api, s3 and evil origins take the next four")
	listen := fs.String("listen", "127.0.0.1", "`address` to listen on")
	open := fs.Bool("open", false, "open the lab in the default browser")
	maxSessions := fs.Int("max-sessions", 2000, "the most learner sessions alive at once")
	lessonsDir := fs.String("lessons", "", "`dir`ectory of your own lessons (*.md), next to the built-in ones; one with a built-in lesson's slug replaces it")
	noBuiltin := fs.Bool("no-builtin-lessons", false, "serve only the lessons from --lessons")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: corslab [flags]\n\nRuns the CORS playground and its virtual origins, then prints the URL to open.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	case *port != 0 && (*port < 1 || *port > 65535-4):
		return fmt.Errorf("--port: must be from 1 to 65531 (corslab uses the port and the next four), got %d", *port)
	case net.ParseIP(*listen) == nil && *listen != "localhost":
		return fmt.Errorf("--listen: must be an IP address such as 127.0.0.1 or 0.0.0.0, got %q", *listen)
	case *maxSessions < 1:
		return fmt.Errorf("--max-sessions: must be at least 1, got %d", *maxSessions)
	case *noBuiltin && *lessonsDir == "":
		return errors.New("--no-builtin-lessons: needs --lessons DIR, or there would be no lessons")
	}
	curriculum, err := loadLessons(*lessonsDir, !*noBuiltin)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := playground.Listen(playground.Config{
		Listen:      *listen,
		Port:        *port,
		MaxSessions: *maxSessions,
		SessionIdle: 2 * time.Hour,
		Logger:      logger,
		Lessons:     curriculum,
	})
	if err != nil {
		return err
	}

	host := *listen
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	origin := func(r playground.Role) string {
		return "http://" + net.JoinHostPort(host, strconv.Itoa(srv.Port(r)))
	}
	lab := origin(playground.UI) + "/lab"
	fmt.Fprintf(stdout, "corslab is running. Open %s\n\n", lab)
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
	} {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.role, origin(o.role), o.what)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nPress Ctrl-C to stop.\n")

	if *open {
		openBrowser(lab, logger)
	}
	err = srv.Serve(ctx)
	fmt.Fprintln(stdout, "corslab stopped.")
	return err
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
