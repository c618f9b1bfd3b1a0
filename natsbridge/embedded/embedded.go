// Package embedded runs a NATS server inside the process, with JetStream on and its data on
// disk, so `webchat serve` works without any NATS installation and tests run a real server. It
// is the only package of the module that imports nats-server; the library core never does.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure an embedded server. The zero value listens on a random loopback port
// without JetStream; with JetStream, Dir is required.
type Options struct {
	// Name is the server name (required in a cluster). Default: random.
	Name string
	// Host and Port to listen on for clients. Defaults: 127.0.0.1 and a random free port (-1).
	Host string
	Port int
	// JetStream enables JetStream with its store in Dir (required then).
	JetStream bool
	Dir       string
	// Cluster, when ClusterName is set, joins a cluster: ClusterPort (random when 0) and Routes
	// (nats-route://host:port URLs of the other members).
	ClusterName string
	ClusterHost string
	ClusterPort int
	Routes      []string
	// ReadyTimeout bounds the wait for the server to accept connections. Default 10 s.
	ReadyTimeout time.Duration
	// NoWait returns as soon as the server is started; call Ready before use. Members of a new
	// JetStream cluster need it: none is ready until enough of them run.
	NoWait bool
	// Debug turns on the server's own logging to stderr.
	Debug bool
}

// Server is a running embedded NATS server.
type Server struct {
	s *server.Server
}

// Start starts a server and waits until it accepts connections.
func Start(o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = -1
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 10 * time.Second
	}
	if o.JetStream && o.Dir == "" {
		return nil, errors.New("embedded: Options.Dir is required with JetStream")
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  o.JetStream,
		StoreDir:   o.Dir,
		NoLog:      !o.Debug,
		NoSigs:     true,
		MaxPayload: 1 << 20,
	}
	if o.ClusterName != "" {
		host := o.ClusterHost
		if host == "" {
			host = o.Host
		}
		port := o.ClusterPort
		if port == 0 {
			p, err := freePort(host)
			if err != nil {
				return nil, err
			}
			port = p
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: host, Port: port}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("embedded: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if o.Debug {
		s.ConfigureLogger()
	}
	go s.Start()
	srv := &Server{s: s}
	if o.NoWait {
		return srv, nil
	}
	if err := srv.Ready(o.ReadyTimeout); err != nil {
		srv.Shutdown()
		return nil, err
	}
	return srv, nil
}

// Ready waits until the server accepts connections.
func (s *Server) Ready(timeout time.Duration) error {
	if !s.s.ReadyForConnections(timeout) {
		return fmt.Errorf("embedded: server not ready after %s", timeout)
	}
	return nil
}

// FreePort returns a free TCP port on host (for cluster ports chosen up front).
func FreePort(host string) (int, error) { return freePort(host) }

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.s.ClientURL() }

// ClusterURL is the nats-route:// URL other cluster members route to ("" outside a cluster).
func (s *Server) ClusterURL() string {
	addr := s.s.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats-route://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
}

// Server returns the underlying nats-server for advanced use.
func (s *Server) Server() *server.Server { return s.s }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("embedded: no free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
