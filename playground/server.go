// Package playground runs corslab: the UI with its JSON API and websocket,
// and the virtual origins (app, api, s3, evil), each on its own port so the
// browser sees genuinely different origins.
package playground

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// Role names one of the servers corslab runs. Their ports follow the UI's in
// this order: ui N, app N+1, api N+2, s3 N+3, evil N+4.
type Role int

const (
	UI Role = iota
	App
	API
	S3
	Evil
	numRoles
)

var roleNames = [numRoles]string{"ui", "app", "api", "s3", "evil"}

func (r Role) String() string { return roleNames[r] }

// Config is what a Server needs. Port 0 lets the system pick a free port for
// every role (tests do this); otherwise the roles take Port to Port+4.
type Config struct {
	Listen      string // address to listen on, e.g. 127.0.0.1
	Port        int
	MaxSessions int
	SessionIdle time.Duration
	Logger      *slog.Logger
	// Lessons is the curriculum, in index order (lesson.Merge).
	Lessons []*lesson.Lesson
}

// Server is a running corslab.
type Server struct {
	cfg       Config
	log       *slog.Logger
	sessions  *session.Store
	listeners [numRoles]net.Listener
	ports     [numRoles]int
	servers   [numRoles]*http.Server
	s3        *origins.S3
	s3client  *s3.Client // corslab's own client of the fake S3
}

// Listen binds every port and prepares the servers; Serve runs them. A port
// already in use gives an error that names it and the flag that moves it.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil || cfg.MaxSessions <= 0 || cfg.SessionIdle <= 0 {
		return nil, errors.New("playground: Config needs a Logger, MaxSessions and SessionIdle")
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	for role := range numRoles {
		port := 0
		if cfg.Port != 0 {
			port = cfg.Port + int(role)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.Listen, strconv.Itoa(port)))
		if err != nil {
			s.closeListeners()
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("port %d (%s) is already in use; move corslab with --port N (it uses N to N+4)", port, role)
			}
			return nil, fmt.Errorf("listening for %s on %s: %w", role, net.JoinHostPort(cfg.Listen, strconv.Itoa(port)), err)
		}
		s.listeners[role] = l
		s.ports[role] = l.Addr().(*net.TCPAddr).Port
	}

	s.s3 = origins.NewS3(s3mem.New(), sigv4.Corslab(), nil)
	s.s3client = origins.NewS3Client(s.s3, sigv4.Corslab())
	s.sessions = session.NewStore(session.Options{
		Max:  cfg.MaxSessions,
		Idle: cfg.SessionIdle,
		// Each session has its own bucket, named after it.
		OnCreate: func(ss *session.Session) error { return s.s3.CreateBucket(ss.ID) },
		OnExpire: func(ss *session.Session) {
			if err := s.s3.DeleteBucket(ss.ID); err != nil {
				s.log.Warn("deleting an expired session's bucket", "session", ss.ID, "err", err)
			}
		},
		OnScenario: s.applyBucket,
	})

	handlers := [numRoles]http.Handler{
		UI:   s.routes(),
		App:  s.pageOrigin(App),
		API:  s.apiOrigin(),
		S3:   s.captured(S3, s.s3),
		Evil: s.pageOrigin(Evil),
	}
	for role, h := range handlers {
		srv := &http.Server{
			Handler:           recoverer(s.log, Role(role), h),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    capture.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		if Role(role) != UI {
			srv.ConnContext = capture.ConnContext
			s.listeners[role] = capture.NewListener(s.listeners[role])
		} else {
			// Websockets live on the UI: no whole-request timeouts there.
			srv.ReadTimeout, srv.WriteTimeout = 0, 0
		}
		s.servers[role] = srv
	}
	return s, nil
}

// Port returns the port a role listens on.
func (s *Server) Port(r Role) int { return s.ports[r] }

// Serve serves every origin until ctx is done, then shuts down: websockets
// are told to go, and requests in flight get a few seconds to finish.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, numRoles)
	for role, srv := range s.servers {
		go func() {
			if err := srv.Serve(s.listeners[role]); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s origin: %w", Role(role), err)
				return
			}
			errc <- nil
		}()
	}
	go s.sessions.Run(ctx, time.Minute)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.sessions.Close()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for _, srv := range s.servers {
		wg.Go(func() { srv.Shutdown(shutdownCtx) })
	}
	wg.Wait()
	return err
}

// applyBucket gives the session's bucket the scenario's CORS rules through
// the S3 API, PutBucketCors or DeleteBucketCors, as a learner would.
func (s *Server) applyBucket(sess *session.Session, old *scenario.Scenario, sc scenario.Scenario) error {
	if old != nil && reflect.DeepEqual(old.Bucket.CORS, sc.Bucket.CORS) {
		return nil
	}
	ctx, cancel := context.WithTimeout(session.NewContext(context.Background(), sess), 5*time.Second)
	defer cancel()
	return origins.PutBucketCORS(ctx, s.s3client, sess.ID, sc.Bucket.CORS)
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		if l != nil {
			l.Close()
		}
	}
}

// recoverer keeps a panicking handler from taking the connection's origin
// down with it, and logs what happened.
func recoverer(log *slog.Logger, role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				log.Error("handler panicked", "origin", role.String(), "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
