package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownGrace is how long Serve lets requests in flight finish once its
// context ends.
const shutdownGrace = 10 * time.Second

// Listen binds Config.Listen, and Config.RedirectListen when set, without
// serving yet, so a caller can print the addresses (with port 0 resolved)
// before Serve. Serve calls it when it has not been called.
func (s *Server) Listen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("web: Listen called twice")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	if s.cfg.RedirectListen != "" {
		rl, err := lc.Listen(ctx, "tcp", s.cfg.RedirectListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("web: redirect listener: %w", err)
		}
		s.redirectLn = rl
	}
	s.ln = ln
	return nil
}

// Addr is the address the site listens on, once Listen has run.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// RedirectAddr is the address of the plain-HTTP redirect listener, or nil.
func (s *Server) RedirectAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.redirectLn == nil {
		return nil
	}
	return s.redirectLn.Addr()
}

// URL is the site's base address ("https://127.0.0.1:8443"), once Listen
// has run.
func (s *Server) URL() string {
	a := s.Addr()
	if a == nil {
		return ""
	}
	scheme := "http"
	if s.cfg.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + a.String()
}

// Serve runs the site until ctx ends: the HTTP server on the bound
// listeners (HTTPS when Config.TLSConfig is set, with the redirect listener
// for plain HTTP) and the background work (Run). It binds first if Listen
// has not been called.
//
// The shutdown order matters: first the listeners stop accepting and the
// requests in flight finish (so nothing new is queued), then the workers
// stop, handing the jobs they were running back to the queue for another
// instance or the next start. Serve returns nil after a shutdown that ctx
// asked for, and the first error otherwise.
func (s *Server) Serve(ctx context.Context) error {
	if s.Addr() == nil {
		if err := s.Listen(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	ln, rl := s.ln, s.redirectLn
	s.mu.Unlock()
	if s.cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, s.cfg.TLSConfig)
	}
	servers := []*http.Server{s.HTTPServer(ln.Addr().String())}
	listeners := []net.Listener{ln}
	if rl != nil {
		servers = append(servers, s.HTTPServer(rl.Addr().String()))
		listeners = append(listeners, rl)
		s.log.Info("redirecting plain HTTP to HTTPS", "addr", rl.Addr().String())
	}
	if s.cfg.AllowPrivate {
		s.log.Warn("allow-private: users may check sites on this server's private networks")
	}
	if s.cfg.AllowPrivateWebhooks {
		s.log.Warn("allow-private-webhooks: webhooks may be delivered to this server's private networks")
	}

	// The workers outlive ctx: they are stopped after the HTTP servers.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workDone := make(chan error, 1)
	go func() { workDone <- s.Run(workCtx) }()

	serveErr := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, hs := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hs.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down")
	case err = <-serveErr:
	case err = <-workDone:
		if err == nil {
			err = errors.New("web: the workers stopped")
		}
		workDone <- nil
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(shutdownCtx)
	}
	wg.Wait()
	stopWork()
	if werr := <-workDone; err == nil && werr != nil {
		err = werr
	}
	return err
}
