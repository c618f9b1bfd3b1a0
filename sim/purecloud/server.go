package purecloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a Simulator listening on a TCP address, like httptest.Server.
type Server struct {
	*Simulator
	// URL is the base URL, e.g. http://127.0.0.1:41234; point a client's
	// API base (dataURL) at it.
	URL string
	// Listener is the server's listener.
	Listener net.Listener

	srv       *http.Server
	serveDone chan struct{}
	closeOnce sync.Once
}

// NewServer starts a Simulator on a random loopback port. Like
// httptest.NewServer it panics when it cannot (bad options, no listener);
// use Start for an error instead.
func NewServer(opts Options) *Server {
	srv, err := Start("127.0.0.1:0", opts)
	if err != nil {
		panic(fmt.Sprintf("purecloud: NewServer: %v", err))
	}
	return srv
}

// Start runs a Simulator on addr (e.g. "127.0.0.1:8080" or ":0"), for the
// CLI and out-of-process tests.
func Start(addr string, opts Options) (*Server, error) {
	sim, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = sim.Close()
		return nil, fmt.Errorf("purecloud: listen %s: %w", addr, err)
	}
	s := &Server{
		Simulator: sim,
		URL:       "http://" + ln.Addr().String(),
		Listener:  ln,
		srv:       &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second},
		serveDone: make(chan struct{}),
	}
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sim.log.Error().Err(err).Msg("purecloud sim: serve")
		}
	}()
	return s, nil
}

// Close stops the simulator (sockets, timers) and the HTTP server, and
// waits for them.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		_ = s.Simulator.Close()
		_ = s.srv.Close()
		<-s.serveDone
	})
}

// Shutdown is Close that first lets in-flight REST calls finish, until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		_ = s.Simulator.Close()
		err = s.srv.Shutdown(ctx)
		if err != nil {
			_ = s.srv.Close()
		}
		<-s.serveDone
	})
	return err
}
