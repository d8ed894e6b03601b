// Package playground runs corslab: the UI with its JSON API and websocket,
// and the virtual origins (app, api, s3, evil, yours), each on its own port
// so the browser sees genuinely different origins.
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// Role names one of the servers corslab runs. Their ports follow the UI's in
// this order: ui N, app N+1, api N+2, s3 N+3, evil N+4, yours N+5.
type Role int

const (
	UI Role = iota
	App
	API
	S3
	Evil
	// Yours forwards to the learner's own server (scenario.Yours).
	Yours
	numRoles
)

var roleNames = [numRoles]string{"ui", "app", "api", "s3", "evil", "yours"}

func (r Role) String() string { return roleNames[r] }

// Config is what a Server needs. Port 0 lets the system pick a free port for
// every role (tests do this); otherwise the roles take Port to Port+5.
type Config struct {
	Listen      string // address to listen on, e.g. 127.0.0.1
	Port        int
	MaxSessions int
	SessionIdle time.Duration
	Logger      *slog.Logger
	// Lessons is the curriculum, in index order (lesson.Merge).
	Lessons []*lesson.Lesson
	// Workshop says corslab serves a class: learner pages ask for the
	// nickname the instructor's dashboard shows.
	Workshop bool
	// PublicHost is the host name (or address) learners use, e.g.
	// 192.168.1.20 or corslab.lan; "" on a laptop. Requests for any other
	// name than it, an IP address or a loopback name are refused.
	PublicHost string
	// TeachToken opens the instructor's dashboard at /teach. Empty: no
	// dashboard.
	TeachToken string
	// Replica, if not "", starts every session id with this letter: see
	// session.Options.IDPrefix and --replica.
	Replica string
	// SessionRate and IPRate limit the requests one session and one client
	// address may make; the zero Rate is no limit.
	SessionRate, IPRate ratelimit.Rate
	// IPSessions is how many sessions one client address may open a
	// minute; 0 is no limit.
	IPSessions int
	// MemoryBudget bounds, in bytes, what all sessions together keep:
	// exchanges, runs, bucket objects, websocket queues. 0 is
	// DefaultMemoryBudget.
	MemoryBudget int64
	// ReadTimeout bounds how long the origins wait for a whole request,
	// body included; 0 is a minute (an upload over a slow link). The UI
	// waits at most uiReadTimeout. (Websockets set their own deadlines.)
	ReadTimeout time.Duration
	// MaxConns is how many connections each server holds at once; 0 is
	// DefaultMaxConns.
	MaxConns int
	// AllowTargets are the upstreams the yours origin may reach in
	// workshop mode (--allow-targets). A server that fetches any URL is an
	// open proxy, so in workshop mode the yours origin is off without
	// them; otherwise (corslab on loopback) it reaches any upstream, and
	// AllowTargets, if given, still limits it.
	AllowTargets *origins.Targets
	// YoursTimeout bounds an exchange of the yours origin with the
	// upstream; 0 is origins.DefaultYoursTimeout.
	YoursTimeout time.Duration
	// ProbeSlots is how many of the lab's probes and scans run at once on
	// the whole server (handle_probe.go); 0 is DefaultProbeSlots.
	ProbeSlots int
}

// uiReadTimeout bounds how long the UI waits for a whole request: its
// bodies are a few KiB of JSON, so a client that stalls half-way is cut
// off soon.
const uiReadTimeout = 20 * time.Second

// DefaultMemoryBudget is the budget when Config.MemoryBudget is 0; main
// lowers it to a quarter of the machine's memory if that is less.
const DefaultMemoryBudget = 1 << 30

// Server is a running corslab.
type Server struct {
	lastCSP   cspCache // uiSecurity's
	cfg       Config
	log       *slog.Logger
	sessions  *session.Store
	listeners [numRoles]net.Listener
	ports     [numRoles]int
	servers   [numRoles]*http.Server
	s3        *origins.S3
	s3client  *s3.Client // corslab's own client of the fake S3
	perAddr   *ratelimit.PerAddr
	// newSessions limits the sessions each client address opens.
	newSessions *ratelimit.PerAddr
	fullLogged  atomic.Int64  // unix seconds of the last "refusing new sessions" log
	harSlots    chan struct{} // HAR files being built (handleHAR)
	teach       *teacher
	probes      prober // the lab's probes and scans (handle_probe.go)
	// sockets counts the websockets being served, so that shutting down
	// can wait for each to say goodbye; closing is closed when it starts.
	sockets  sync.WaitGroup
	socketMu sync.Mutex // guards stopping, so no socket is added to a Wait
	stopping bool
	closing  chan struct{}
}

// Listen binds every port and prepares the servers; Serve runs them. A port
// already in use gives an error that names it and the flag that moves it.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil || cfg.MaxSessions <= 0 || cfg.SessionIdle <= 0 {
		return nil, errors.New("playground: Config needs a Logger, MaxSessions and SessionIdle")
	}
	if cfg.MemoryBudget == 0 {
		cfg.MemoryBudget = DefaultMemoryBudget
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = time.Minute
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	s := &Server{cfg: cfg, log: cfg.Logger, perAddr: ratelimit.NewPerAddr(cfg.IPRate), closing: make(chan struct{}),
		harSlots: make(chan struct{}, harBuilders)}
	if cfg.IPSessions > 0 {
		s.newSessions = ratelimit.NewPerAddr(ratelimit.Rate{PerSecond: float64(cfg.IPSessions) / 60, Burst: cfg.IPSessions})
	} else {
		s.newSessions = ratelimit.NewPerAddr(ratelimit.Rate{})
	}
	s.teach = newTeacher(cfg.TeachToken)
	for role := range numRoles {
		port := 0
		if cfg.Port != 0 {
			port = cfg.Port + int(role)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.Listen, strconv.Itoa(port)))
		if err != nil {
			s.closeListeners()
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("port %d (%s) is already in use; move corslab with --port N (it uses N to N+5)", port, role)
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
			s.teach.forget(ss.ID)
			if err := s.s3.DeleteBucket(ss.ID); err != nil {
				s.log.Warn("deleting an expired session's bucket", "session", ss.ID, "err", err)
			}
		},
		OnScenario: s.applyBucket,
		IDPrefix:   cfg.Replica,
		Budget:     session.NewBudget(cfg.MemoryBudget),
	})

	// Bucket objects count against the memory budget like traffic does.
	s.s3.OnUsage(s.sessions.SetStored)

	handlers := [numRoles]http.Handler{
		UI:    s.uiSecurity(s.routes()),
		App:   s.pageOrigin(App),
		API:   s.apiOrigin(),
		S3:    s.captured(S3, s.s3),
		Evil:  s.pageOrigin(Evil),
		Yours: s.yoursOrigin(),
	}
	for role, h := range handlers {
		srv := &http.Server{
			Handler:           recoverer(s.log, Role(role), s.guard(Role(role), h)),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    capture.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		s.listeners[role] = limitConns(s.listeners[role], cfg.MaxConns, s.log, Role(role))
		// The UI's websockets outlive these timeouts: the upgrade clears
		// the connection's deadlines, and handleWS sets its own.
		if Role(role) == UI {
			srv.ReadTimeout = min(cfg.ReadTimeout, uiReadTimeout)
		} else {
			srv.ConnContext = capture.ConnContext
			s.listeners[role] = capture.NewListener(s.listeners[role])
		}
		s.servers[role] = srv
	}
	return s, nil
}

// Port returns the port a role listens on.
func (s *Server) Port(r Role) int { return s.ports[r] }

// Serve serves every origin until ctx is done, then shuts down: no new
// connections are taken, every websocket is sent a close frame saying why
// (a learner's page then keeps retrying until corslab is back), and
// requests in flight and websockets get up to 5 seconds to finish.
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
	go s.sessions.Run(ctx, min(time.Minute, max(time.Second, s.cfg.SessionIdle/4)))

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for _, srv := range s.servers {
		wg.Go(func() { srv.Shutdown(shutdownCtx) })
	}
	// Shutdown does not wait for hijacked connections: tell the websockets
	// to go, and wait for them here.
	s.socketMu.Lock()
	s.stopping = true
	s.socketMu.Unlock()
	close(s.closing)
	s.sessions.Close()
	wg.Go(func() {
		drained := make(chan struct{})
		go func() { s.sockets.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-shutdownCtx.Done():
			s.log.Warn("websockets still open after 5 s; stopping anyway")
		}
	})
	wg.Wait()
	return err
}

// idle says in words how long an unused session lives: "2 hours".
func (s *Server) idle() string {
	d := s.cfg.SessionIdle
	switch {
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// openSocket counts a websocket that is about to be served, unless corslab
// is stopping; the caller must call s.sockets.Done when it ends.
func (s *Server) openSocket() bool {
	s.socketMu.Lock()
	defer s.socketMu.Unlock()
	if s.stopping {
		return false
	}
	s.sockets.Add(1)
	return true
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
