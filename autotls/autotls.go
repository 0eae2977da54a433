package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/internal/datadir"
	"github.com/httpsguard/httpsguard/internal/tlsdefaults"
)

// ACME directories.
const (
	// LetsEncrypt is Let's Encrypt's production directory, the default.
	LetsEncrypt = certmagic.LetsEncryptProductionCA
	// LetsEncryptStaging is Let's Encrypt's staging directory: certificates
	// no browser trusts, under much higher rate limits, for trying a
	// deployment out.
	LetsEncryptStaging = certmagic.LetsEncryptStagingCA
)

// Options configures a Server. Only Domains (or OnDemand) is required.
type Options struct {
	// Domains are the names to obtain certificates for when the server
	// starts, and to keep renewed: "example.com", "www.example.com". Each
	// must resolve to this server, which must be reachable on ports 80 and
	// 443 (or wherever the CA's connections are forwarded to HTTPAddr and
	// HTTPSAddr). Wildcards need the DNS challenge, which autotls does not
	// offer.
	Domains []string
	// OnDemand, when set, lets the server obtain a certificate during the
	// first TLS handshake for a name not in Domains, if OnDemand returns
	// nil for it: a multi-tenant service checks its customer table here.
	// Without the check anyone could make the server ask the CA for any
	// name pointed at it, and exhaust its rate limits.
	OnDemand func(ctx context.Context, name string) error

	// CA is the URL of the ACME directory (RFC 8555): LetsEncrypt (the
	// default), LetsEncryptStaging, or any other CA's, such as a
	// private step-ca or Pebble.
	CA string
	// CARoots, when set, are the roots that the CA's own HTTPS
	// certificate is verified against (a private CA); otherwise the
	// system's.
	CARoots *x509.CertPool
	// Email is the ACME account's contact, to which the CA writes about
	// expiring certificates and policy changes. Optional but advised.
	Email string

	// Storage is the folder that holds the certificates, their keys and
	// the ACME account, so that a restart does not ask the CA again
	// (default: DefaultStorage()). Keep it private and persistent.
	Storage string

	// HTTPAddr and HTTPSAddr are the addresses to listen on (default ":80"
	// and ":443"). Serve uses them; ServeListeners takes listeners
	// instead. Redirects go to the HTTPS listener's port, written only
	// when it is not 443.
	HTTPAddr, HTTPSAddr string

	// Policy is what the Guard enforces on every response (default:
	// DefaultPolicy(Domains)). It must not name a proxy header, trusted
	// proxies or X-Forwarded-Host, since TLS ends here, nor be in
	// Development.
	Policy *httpsguard.Policy

	// Logger receives what happens: certificates obtained and renewed at
	// Info, failures at Error (as *Error), certmagic's details at Debug
	// and Warn. nil discards them.
	Logger *slog.Logger

	// DisableHTTPChallenge and DisableTLSALPNChallenge turn one of the
	// two challenges off, for a network where the CA can reach only one
	// of the ports.
	DisableHTTPChallenge, DisableTLSALPNChallenge bool

	// RenewCheckInterval is how often certificates are checked for
	// renewal (default 10 minutes). A certificate is renewed when a third
	// of its lifetime is left, or when the CA's renewal information (ARI)
	// says so.
	RenewCheckInterval time.Duration

	// ShutdownTimeout bounds the graceful shutdown that follows the
	// cancellation of Serve's context (default 10 seconds).
	ShutdownTimeout time.Duration
}

// DefaultPolicy is the production policy a Server enforces unless
// Options.Policy says otherwise: HTTPS only (HSTS for a year, sent only
// over HTTPS), every cookie Secure and SameSite=Lax, the session cookie
// HttpOnly, the Django-default headers (nosniff, X-Frame-Options DENY,
// Referrer-Policy and Cross-Origin-Opener-Policy same-origin), and only
// the given names as hosts (with Options.OnDemand, New leaves AllowedHosts
// empty: the decision function decides). includeSubDomains and preload are
// commitments for the whole domain, left to the site's owner.
func DefaultPolicy(domains []string) httpsguard.Policy {
	return httpsguard.Policy{
		SSLRedirect:             true,
		HSTSSeconds:             31536000,
		ContentTypeNosniff:      true,
		FrameOptions:            "DENY",
		ReferrerPolicy:          "same-origin",
		CrossOriginOpenerPolicy: "same-origin",
		SecureCookies:           []string{"*"},
		HTTPOnlyCookies:         []string{"sessionid"},
		CookieSameSite:          "Lax",
		AllowedHosts:            slices.Clone(domains),
	}
}

// DefaultStorage returns the folder certificates are kept in by default:
// httpsguard/acme under the user's data folder ($XDG_DATA_HOME, else
// ~/.local/share; ~/Library/Application Support on macOS; %LocalAppData%
// on Windows).
func DefaultStorage() (string, error) {
	base, err := datadir.Base(runtime.GOOS, os.Getenv)
	if err != nil {
		return "", fmt.Errorf("autotls: no data folder for the certificates (%v): set Options.Storage", err)
	}
	return filepath.Join(base, "httpsguard", "acme"), nil
}

// NameStatus is what a Server knows about the certificate of one name.
type NameStatus struct {
	Name string
	// NotAfter is when the certificate being served expires; zero while
	// there is none.
	NotAfter time.Time
	// Err is the last failure to obtain or renew it, nil once an attempt
	// succeeds after it.
	Err *Error
}

// Server serves an application over HTTPS with certificates from ACME. It
// serves once: after Serve returns, make a new one.
type Server struct {
	opts    Options
	log     *slog.Logger
	policy  httpsguard.Policy
	guard   *httpsguard.Guard // the HTTPS listener's
	plain   *httpsguard.Guard // the HTTP listener's: the same policy, redirecting by itself
	handler http.Handler
	domains []string

	mu      sync.Mutex
	started bool
	status  map[string]*NameStatus
	issuer  *certmagic.ACMEIssuer
	storage certmagic.Storage
	stop    func(context.Context) error // set by ServeListeners

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{} // closed when everything has stopped
}

// ListenAndServe serves h with opts until ctx is cancelled, then shuts down
// gracefully: New, then Serve.
func ListenAndServe(ctx context.Context, h http.Handler, opts Options) error {
	s, err := New(h, opts)
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}

// New checks opts and returns a Server for h. Nothing is contacted or
// listened on until Serve.
func New(h http.Handler, opts Options) (*Server, error) {
	if h == nil {
		return nil, errors.New("autotls: nil handler")
	}
	s := &Server{opts: opts, handler: h, status: map[string]*NameStatus{}, stopped: make(chan struct{})}
	s.log = opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.domains, err = opts.domains(); err != nil {
		return nil, err
	}
	for _, d := range s.domains {
		s.status[d] = &NameStatus{Name: d}
	}

	s.policy = DefaultPolicy(s.domains)
	if opts.OnDemand != nil {
		// The names are OnDemand's to decide, for the redirect and the
		// certificate alike; a static list would refuse them.
		s.policy.AllowedHosts = nil
	}
	if opts.Policy != nil {
		s.policy = *opts.Policy
	}
	if err := transportError(s.policy); err != nil {
		return nil, err
	}
	if s.guard, err = httpsguard.New(s.policy); err != nil {
		return nil, fmt.Errorf("autotls: %w", err)
	}
	// The HTTP listener's own redirect knows the HTTPS port; the Guard
	// there checks the host and adds the headers.
	plain := s.policy
	plain.SSLRedirect = false
	if s.plain, err = httpsguard.New(plain); err != nil {
		return nil, fmt.Errorf("autotls: %w", err)
	}
	return s, nil
}

// domains returns Domains in canonical form (lower case, no trailing dot,
// each once), or why they cannot be served.
func (o Options) domains() ([]string, error) {
	var out, bad []string
	for _, d := range o.Domains {
		name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		switch {
		case strings.Contains(name, "*"):
			bad = append(bad, fmt.Sprintf("%q: wildcard certificates need the DNS challenge, which autotls does not offer", d))
		case !certmagic.SubjectQualifiesForCert(name) || strings.ContainsAny(name, ":/@ "):
			bad = append(bad, fmt.Sprintf("%q: not a name a certificate can be issued for", d))
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("autotls: Options.Domains: %s", strings.Join(bad, "; "))
	}
	if len(out) == 0 && o.OnDemand == nil {
		return nil, errors.New("autotls: nothing to serve: set Options.Domains, or Options.OnDemand")
	}
	return out, nil
}

// transportError explains why a policy cannot be served by autotls, which
// terminates TLS itself: a proxy header would let any client say which
// scheme it used, and Development turns HTTPS off.
func transportError(p httpsguard.Policy) error {
	switch {
	case strings.TrimSpace(p.ProxySSLHeader) != "" || len(p.TrustedProxies) > 0 || p.UseXForwardedHost:
		return errors.New("autotls: the policy names a proxy header, trusted proxies or X-Forwarded-Host, but TLS ends here, at the application: remove them")
	case p.Development:
		return errors.New("autotls: the policy is in Development, which turns HTTPS off")
	}
	return nil
}

// Policy returns the policy the server enforces.
func (s *Server) Policy() httpsguard.Policy { return s.guard.Policy() }

// Status returns what the server knows about each name's certificate, in
// name order: the names of Domains, and the names OnDemand approved.
func (s *Server) Status() []NameStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]NameStatus, 0, len(s.status))
	for _, st := range s.status {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b NameStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Serve listens on Options.HTTPAddr and Options.HTTPSAddr and serves (see
// ServeListeners).
func (s *Server) Serve(ctx context.Context) error {
	httpAddr, httpsAddr := s.opts.HTTPAddr, s.opts.HTTPSAddr
	if httpAddr == "" {
		httpAddr = ":80"
	}
	if httpsAddr == "" {
		httpsAddr = ":443"
	}
	var lc net.ListenConfig
	httpLn, err := lc.Listen(ctx, "tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("autotls: listening for HTTP: %w", err)
	}
	httpsLn, err := lc.Listen(ctx, "tcp", httpsAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("autotls: listening for HTTPS: %w", err)
	}
	return s.ServeListeners(ctx, httpLn, httpsLn)
}

// ServeListeners serves plain HTTP on httpLn (ACME challenges and the
// redirect) and HTTPS on httpsLn (the application), obtains the
// certificates of Domains in the background, and renews them, until ctx is
// cancelled or Shutdown is called; then it shuts down gracefully and
// returns nil. It takes listeners for socket activation, and for tests.
// Failures to obtain a certificate do not end it (see Error).
func (s *Server) ServeListeners(ctx context.Context, httpLn, httpsLn net.Listener) (err error) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		httpLn.Close()
		httpsLn.Close()
		return errors.New("autotls: Server already served")
	}
	s.started = true
	s.mu.Unlock()
	select {
	case <-s.stopped:
		httpLn.Close()
		httpsLn.Close()
		return nil // Shutdown came first
	default:
	}

	httpHost, httpPort, err := hostPort(httpLn.Addr())
	if err != nil {
		return s.abort(httpLn, httpsLn, fmt.Errorf("autotls: HTTP listener: %w", err))
	}
	_, httpsPort, err := hostPort(httpsLn.Addr())
	if err != nil {
		return s.abort(httpLn, httpsLn, fmt.Errorf("autotls: HTTPS listener: %w", err))
	}
	storage := s.opts.Storage
	if storage == "" {
		if storage, err = DefaultStorage(); err != nil {
			return s.abort(httpLn, httpsLn, err)
		}
	}
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return s.abort(httpLn, httpsLn, fmt.Errorf("autotls: storage: %w", err))
	}

	zl := newZapLogger(s.log)
	// Domains are managed by one configuration; with OnDemand, handshakes
	// go through a second, sharing the cache, storage and account. (One
	// configuration with both would only add Domains to its on-demand
	// allow-list, obtaining nothing until a client asks, and would then
	// refuse every name OnDemand approves.)
	var magic, handshake *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(c certmagic.Certificate) (*certmagic.Config, error) {
			for _, n := range c.Names {
				if !slices.Contains(s.domains, n) {
					return handshake, nil
				}
			}
			return magic, nil
		},
		RenewCheckInterval: s.opts.RenewCheckInterval,
		OCSPCheckInterval:  s.opts.RenewCheckInterval,
		Logger:             zl,
	})
	s.storage = &certmagic.FileStorage{Path: storage}
	ca := s.opts.CA
	if ca == "" {
		ca = LetsEncrypt
	}
	issuer := certmagic.ACMEIssuer{
		CA:                      ca,
		Email:                   s.opts.Email,
		Agreed:                  true,
		TrustedRoots:            s.opts.CARoots,
		DisableHTTPChallenge:    s.opts.DisableHTTPChallenge,
		DisableTLSALPNChallenge: s.opts.DisableTLSALPNChallenge,
		// The CA's connections arrive on our listeners; certmagic, finding
		// these ports taken, answers the challenges through them instead
		// of listening itself.
		ListenHost:     httpHost,
		AltHTTPPort:    httpPort,
		AltTLSALPNPort: httpsPort,
		Logger:         zl,
	}
	newConfig := func(onDemand *certmagic.OnDemandConfig) (*certmagic.Config, *certmagic.ACMEIssuer) {
		cfg := certmagic.New(cache, certmagic.Config{Storage: s.storage, Logger: zl, OnEvent: s.onEvent, OnDemand: onDemand})
		iss := certmagic.NewACMEIssuer(cfg, issuer)
		cfg.Issuers = []certmagic.Issuer{iss}
		return cfg, iss
	}
	magic, s.issuer = newConfig(nil)
	handshake = magic
	if s.opts.OnDemand != nil {
		handshake, _ = newConfig(&certmagic.OnDemandConfig{DecisionFunc: s.decide})
	}

	tlsConfig := handshake.TLSConfig()
	tlsConfig.NextProtos = []string{"h2", "http/1.1", "acme-tls/1"}
	tlsConfig.MinVersion = tls.VersionTLS12
	tlsConfig.CipherSuites = tlsdefaults.CipherSuites()             // TLS 1.2 with ECDHE and AEAD only
	errorLog := slog.NewLogLogger(s.log.Handler(), slog.LevelDebug) // handshake noise from scanners
	httpSrv := &http.Server{
		Handler:           s.httpHandler(httpsPort),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          errorLog,
	}
	httpsSrv := &http.Server{
		Handler:           s.httpsHandler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
	}

	manageCtx, cancelManage := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.stop = func(ctx context.Context) error {
		cancelManage()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, srv := range []*http.Server{httpsSrv, httpSrv} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = srv.Shutdown(ctx)
			}()
		}
		wg.Wait()
		cache.Stop()
		return errors.Join(errs...)
	}
	s.mu.Unlock()

	serveErr := make(chan error, 2)
	go func() { serveErr <- httpSrv.Serve(httpLn) }()
	go func() { serveErr <- httpsSrv.ServeTLS(httpsLn, "", "") }()
	s.log.Info("autotls: serving", "http", httpLn.Addr().String(), "https", httpsLn.Addr().String(),
		"domains", s.domains, "on_demand", s.opts.OnDemand != nil, "ca", ca, "storage", storage)
	if len(s.domains) > 0 {
		// In the background, with retries: the listeners must already be
		// up to answer the challenges, and a CA outage must not keep the
		// names that have certificates from being served.
		if err := magic.ManageAsync(manageCtx, s.domains); err != nil {
			s.log.Error("autotls: managing certificates", "error", err)
		}
	}

	select {
	case <-ctx.Done():
		timeout := s.opts.ShutdownTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return s.Shutdown(sctx)
	case <-s.stopped:
		return nil
	case err := <-serveErr:
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
		return fmt.Errorf("autotls: %w", err)
	}
}

// abort closes the listeners of a ServeListeners that cannot start.
func (s *Server) abort(httpLn, httpsLn net.Listener, err error) error {
	httpLn.Close()
	httpsLn.Close()
	s.stopOnce.Do(func() { close(s.stopped) })
	return err
}

// Shutdown stops the server gracefully: the listeners close, requests in
// flight finish until ctx is done, certificate maintenance stops. It
// returns what http.Server.Shutdown returns (ctx's error when requests
// were still running), and makes Serve return nil.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		stop := s.stop
		s.mu.Unlock()
		if stop != nil {
			s.stopErr = stop(ctx)
		}
		close(s.stopped)
		s.log.Info("autotls: stopped")
	})
	return s.stopErr
}

func hostPort(a net.Addr) (string, int, error) {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", port, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = ""
	}
	return host, n, nil
}

// decide is certmagic's on-demand decision: the names of Domains, and those
// OnDemand approves.
func (s *Server) decide(ctx context.Context, name string) error {
	if slices.Contains(s.domains, name) {
		return nil
	}
	if err := s.opts.OnDemand(ctx, name); err != nil {
		// Scanners send every name under the sun: not worth more than Debug.
		s.log.Debug("autotls: on-demand certificate declined", "name", name, "error", err)
		return err
	}
	return nil
}

// onEvent keeps Status and the log up to date from certmagic's events.
func (s *Server) onEvent(ctx context.Context, event string, data map[string]any) error {
	name, _ := data["identifier"].(string)
	renewal, _ := data["renewal"].(bool)
	switch event {
	case "cert_obtained":
		path, _ := data["certificate_path"].(string)
		notAfter := s.notAfter(ctx, path)
		s.record(name, notAfter, nil)
		msg := "autotls: certificate obtained"
		if renewal {
			msg = "autotls: certificate renewed"
		}
		s.log.Info(msg, "name", name, "not_after", notAfter)
	case "cached_managed_cert":
		sans, _ := data["sans"].([]string)
		for _, san := range sans {
			if notAfter := s.notAfter(ctx, certmagic.StorageKeys.SiteCert(s.issuer.IssuerKey(), san)); !notAfter.IsZero() {
				s.record(san, notAfter, nil)
				s.log.Info("autotls: certificate loaded from storage", "name", san, "not_after", notAfter)
			}
		}
	case "cert_failed":
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New("unknown error")
		}
		e := classify(name, renewal, err)
		s.record(name, time.Time{}, e)
		s.log.Error(e.Error(), "name", name, "kind", string(e.Kind), "renewal", renewal,
			"serving", s.serving(name))
	}
	return nil
}

// record updates the status of name: a certificate's expiry (zero keeps
// the one known), or a failure (nil clears it).
func (s *Server) record(name string, notAfter time.Time, failure *Error) {
	if name == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status[name]
	if st == nil {
		st = &NameStatus{Name: name}
		s.status[name] = st
	}
	if !notAfter.IsZero() {
		st.NotAfter = notAfter
	}
	st.Err = failure
}

// serving reports whether name has a certificate that has not expired.
func (s *Server) serving(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status[name]
	return st != nil && time.Now().Before(st.NotAfter)
}

// notAfter reads the expiry of the certificate stored under key.
func (s *Server) notAfter(ctx context.Context, key string) time.Time {
	if key == "" {
		return time.Time{}
	}
	b, err := s.storage.Load(ctx, key)
	if err != nil {
		return time.Time{}
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return time.Time{}
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return cert.NotAfter
}
