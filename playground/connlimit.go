package playground

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConns is how many connections each of corslab's servers holds
// at once: a class of 300 browsers opens about six per origin, and each
// connection costs a goroutine and its buffers, so a flood of idle or
// stalled connections (slowloris) is bounded too.
const DefaultMaxConns = 4096

// limitConns accepts at most max connections at once from l. One more is
// closed at once rather than left waiting, so that a flood never holds the
// accept queue: the browser of a learner who hits the cap sees a reset and
// retries, and the refusal is logged, at most once a minute.
func limitConns(l net.Listener, max int, log *slog.Logger, role Role) net.Listener {
	return &connLimiter{Listener: l, slots: make(chan struct{}, max), log: log, role: role}
}

type connLimiter struct {
	net.Listener
	slots  chan struct{}
	log    *slog.Logger
	role   Role
	logged atomic.Int64 // unix seconds of the last log line
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			c.Close()
			now := time.Now().Unix()
			if last := l.logged.Load(); now-last >= 60 && l.logged.CompareAndSwap(last, now) {
				l.log.Warn("refusing connections: the server holds its most at once", "origin", l.role.String(), "max", cap(l.slots))
			}
		}
	}
}

// limitedConn gives its slot back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
