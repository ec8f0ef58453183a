// Package natsserver runs an embedded NATS server (nats-server, in
// process) on 127.0.0.1, for the cluster's tests, its example and its
// benchmarks. It is the only package that imports nats-server: a
// deployment of several machines runs its own NATS (see adapters/nats).
package natsserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded NATS server that can be stopped and started again
// on the same port (to test a NATS restart).
type Server struct {
	mu     sync.Mutex
	s      *server.Server
	port   int
	routes []*url.URL // the cluster's route to join, if any
	cport  int        // this server's cluster port, if in a cluster
}

// Start starts a server on a free port of 127.0.0.1.
func Start() (*Server, error) {
	s := &Server{port: -1}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	opts := &server.Options{
		Host:   "127.0.0.1",
		Port:   s.port,
		NoLog:  true,
		NoSigs: true,
	}
	if s.cport != 0 {
		opts.ServerName = fmt.Sprintf("parley-%d", names.Add(1)) // unique, or routes are refused
		opts.Cluster = server.ClusterOpts{Name: "parley", Host: "127.0.0.1", Port: s.cport}
		opts.Routes = s.routes
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("natsserver: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return errors.New("natsserver: the server did not become ready")
	}
	s.s = ns
	s.port = ns.Addr().(*net.TCPAddr).Port
	if s.cport != 0 {
		s.cport = ns.ClusterAddr().Port
	}
	return nil
}

var names atomic.Int64

// StartCluster starts n servers on 127.0.0.1 joined by routes into one
// NATS cluster (each knows the first), and waits until every server has a
// route to every other: clients of different servers then reach each
// other as NATS's own clusters let them.
func StartCluster(n int) ([]*Server, error) {
	var (
		all   []*Server
		first *url.URL
	)
	for i := range n {
		s := &Server{port: -1, cport: -1}
		if i > 0 {
			s.routes = []*url.URL{first}
		}
		if err := s.start(); err != nil {
			for _, o := range all {
				o.Stop()
			}
			return nil, err
		}
		if i == 0 {
			first = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", s.cport)}
		}
		all = append(all, s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range all {
		for s.s.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				for _, o := range all {
					o.Stop()
				}
				return nil, errors.New("natsserver: the cluster's routes did not form")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return all, nil
}

// URL is the address clients connect to: nats://127.0.0.1:<port>.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

// Stop shuts the server down and waits until it has. Its clients see the
// link drop and try to reconnect.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		s.s.Shutdown()
		s.s.WaitForShutdown()
		s.s = nil
	}
}

// Restart stops the server, if it runs, and starts it again on the same
// port. The port may have been taken meanwhile: Restart then fails.
func (s *Server) Restart() error {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	// The port of the old listener can take a moment to be free again.
	for range 50 {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
