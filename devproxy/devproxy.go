package devproxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/httpsguard/httpsguard"
	"github.com/httpsguard/httpsguard/localca"
)

// Default listen addresses. "localhost" means both loopback addresses:
// 127.0.0.1, which must be free, and [::1] when the machine has IPv6.
const (
	DefaultHTTPSAddr = "localhost:8443"
	DefaultHTTPAddr  = "localhost:8080"
)

// Off, as Config.HTTPAddr, disables the plain-HTTP listener.
const Off = "off"

// MarkHeader is the response field with which the server marks what it
// serves, so that "httpsguard check" (and a developer in the browser's
// tools) can tell what the server changes on purpose from what the
// application does. Its value is a list: "dev", then
//
//   - "hsts-removed" when Strict-Transport-Security is removed from the
//     response (Config.HSTS is off);
//   - "temporary-redirect" on the server's own redirect from plain HTTP to
//     HTTPS, and on an application's permanent redirect that it made
//     temporary.
//
// Any such field from the application is replaced.
const MarkHeader = "Httpsguard-Serve"

// Config describes a development server. Exactly one of Upstream and Dir
// must be set.
type Config struct {
	// Upstream is the application to proxy to, an http:// URL with host
	// and port such as ParseUpstream returns.
	Upstream *url.URL
	// Dir is the folder to serve in static mode. Nothing outside it is
	// served, even through symbolic links; directories without index.html
	// are listed.
	Dir string

	// CA issues the server certificate. Required.
	CA *localca.CA
	// Hosts are extra names the certificate covers, besides localhost,
	// 127.0.0.1 and ::1; for example "myapp.test" mapped to 127.0.0.1 in
	// /etc/hosts.
	Hosts []string
	// LeafLifetime is the validity of the in-memory certificate;
	// DefaultLeafLifetime when zero. It is renewed after two thirds.
	LeafLifetime time.Duration

	// HTTPSAddr is where HTTPS is served: "PORT", ":PORT" or "HOST:PORT".
	// A missing host, or "localhost", means the loopback addresses; any
	// other host must be an IP address ("0.0.0.0:8443" exposes the server
	// to the network). Port 0 picks a free port. Empty means
	// DefaultHTTPSAddr, and then, when its port is taken, Listen tries the
	// next ones and logs the one it chose; a port given explicitly is
	// bound as given or Listen fails.
	HTTPSAddr string
	// HTTPAddr is where plain HTTP is served, in the same forms, or Off.
	// Empty means DefaultHTTPAddr, or Off when Upstream is on that port.
	// An address that cannot be bound (taken by another server) is a
	// warning, not an error: the server runs without the HTTP listener.
	// Plain HTTP requests are redirected to HTTPS with 307, unless
	// HTTPPassthrough is set.
	HTTPAddr string
	// HTTPPassthrough serves plain HTTP requests like HTTPS ones (with
	// X-Forwarded-Proto: http) instead of redirecting them, to see what the
	// application itself does over HTTP. A redirect to https:// on the HTTP
	// port, by the application or the Policy, is pointed at the HTTPS port.
	HTTPPassthrough bool

	// ChangeHost sends the upstream's own host:port as the Host header
	// instead of the browser's, for applications that only answer to their
	// own address. X-Forwarded-Host still carries the browser's.
	ChangeHost bool

	// Policy, when set, is enforced on every response by httpsguard's
	// Guard, as it would be by the middleware in a Go application.
	Policy *httpsguard.Policy
	// HSTS keeps Strict-Transport-Security: from Policy and in the
	// application's responses. By default it is removed: browsers other than
	// Chromium remember HSTS for localhost and development names, and then
	// refuse plain HTTP for every other project on that name.
	HSTS bool

	// Logger receives diagnostics and, unless Quiet, one access-log record
	// per request (message AccessMessage). Nil discards everything; see
	// NewConsoleHandler for the terminal format.
	Logger *slog.Logger
	// Quiet turns off the access log. Warnings and errors are still logged.
	Quiet bool
}

// Server is a development HTTPS server. Its methods are safe for concurrent
// use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	certs *certSource
	names []string // certificate names, in order

	httpsSpec, httpSpec listenSpec
	// httpsMoves: the HTTPS address is the default, whose port moves on
	// to the next free one when it is taken.
	httpsMoves bool

	https http.Handler // handler for the HTTPS listeners
	plain http.Handler // handler for the HTTP listeners; nil when off

	proxy  *proxy  // nil in static mode
	static *static // nil in proxy mode
	mark   string  // MarkHeader on HTTPS responses

	mu       sync.Mutex
	httpsLns []net.Listener
	httpLns  []net.Listener
	serving  bool
}

// New checks cfg and returns a server ready to Listen. It does no I/O
// beyond opening Dir, so it is fast; the certificate is issued when the
// first client connects (or by Listen, in the background).
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.CA == nil:
		return nil, errors.New("devproxy: no local CA given")
	case cfg.Upstream != nil && cfg.Dir != "":
		return nil, errors.New("proxy to an application or serve a folder, not both")
	case cfg.Upstream == nil && cfg.Dir == "":
		return nil, errors.New("nothing to serve: give an upstream application or a folder")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}

	var err error
	if s.httpsSpec, err = parseListenAddr(cmp.Or(cfg.HTTPSAddr, DefaultHTTPSAddr)); err != nil {
		return nil, fmt.Errorf("HTTPS address: %w", err)
	}
	s.httpsMoves = cfg.HTTPSAddr == ""
	httpAddr := cmp.Or(cfg.HTTPAddr, DefaultHTTPAddr)
	if cfg.HTTPAddr == "" && cfg.Upstream != nil && cfg.Upstream.Port() == portOfAddr(DefaultHTTPAddr) {
		// The application itself is on 8080, a common choice: the default
		// HTTP listener would collide with it.
		log.Info("the plain-HTTP listener is off because the application uses port " + cfg.Upstream.Port() + "; choose an address with --http to have one")
		httpAddr = Off
	}
	if !strings.EqualFold(httpAddr, Off) {
		if s.httpSpec, err = parseListenAddr(httpAddr); err != nil {
			return nil, fmt.Errorf("HTTP address: %w", err)
		}
	}

	s.names = []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range cfg.Hosts {
		n, err := localca.ParseName(h)
		if err != nil {
			return nil, fmt.Errorf("host name: %w", err)
		}
		s.names = appendUnique(s.names, n.String())
	}
	for _, ip := range certIPs(s.httpsSpec) {
		s.names = appendUnique(s.names, ip.String())
	}
	s.certs = newCertSource(cfg.CA, s.names, cfg.LeafLifetime, log)

	s.mark = "dev"
	if !cfg.HSTS {
		s.mark += ", hsts-removed"
	}
	var core http.Handler
	if cfg.Upstream != nil {
		if cfg.Upstream.Scheme != "http" || cfg.Upstream.Host == "" {
			return nil, fmt.Errorf("upstream %s: want an http://host:port URL, as ParseUpstream returns", cfg.Upstream)
		}
		s.proxy = newProxy(s)
		core = s.proxy
	} else {
		if s.static, err = newStatic(cfg.Dir, s.mark); err != nil {
			return nil, err
		}
		core = s.static
	}

	policy := cfg.Policy
	if policy != nil && !cfg.HSTS && policy.HSTSSeconds != 0 {
		p := *policy
		log.Info("HSTS from the policy is not sent on development names; --hsts sends it anyway", "hsts_seconds", p.HSTSSeconds)
		p.HSTSSeconds = 0
		policy = &p
	}
	if policy != nil && policy.UseXForwardedHost {
		// serve is the proxy the browser talks to: it removes any
		// X-Forwarded-Host a client sends, so the Guard sees the browser's
		// own Host, which is what the setting would give behind a proxy.
		log.Info("USE_X_FORWARDED_HOST has no effect under httpsguard serve: it is the proxy, and the policy sees the browser's own Host")
	}
	if err := s.buildHandlers(core, policy); err != nil {
		if s.static != nil {
			s.static.close()
		}
		return nil, err
	}
	if strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		log.Warn("GODEBUG=http2xconnect=1 offers WebSockets over HTTP/2, which the proxy does not forward; remove it so that browsers open WebSockets over HTTP/1.1")
	}
	return s, nil
}

// buildHandlers builds the handlers of the HTTPS and HTTP listeners.
func (s *Server) buildHandlers(core http.Handler, policy *httpsguard.Policy) error {
	var err error
	if s.https, err = s.chain(core, policy, false); err != nil {
		return err
	}
	switch {
	case len(s.httpSpec.hosts) == 0:
	case s.cfg.HTTPPassthrough:
		// The policy's own redirect to HTTPS applies here too; the
		// redirect writer points it at the HTTPS port.
		s.plain, err = s.chain(core, policy, true)
	default:
		s.plain = s.logRequests(http.HandlerFunc(s.redirectToHTTPS))
	}
	return err
}

// chain builds the handler stack: access log, removal of spoofable proxy
// headers, the Policy, and the proxy or file server.
func (s *Server) chain(core http.Handler, policy *httpsguard.Policy, plain bool) (http.Handler, error) {
	h := core
	if policy != nil {
		g, err := httpsguard.New(*policy)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		h = g.Handler(h)
	}
	if plain {
		h = s.pointRedirectsAtHTTPS(h)
	}
	h = stripSpoofable(h)
	return s.logRequests(h), nil
}

// Names returns the names the server certificate covers.
func (s *Server) Names() []string { return append([]string(nil), s.names...) }

// Listen binds the HTTPS and HTTP listeners. An HTTPS address that cannot
// be bound gives a *ListenError (see Config.HTTPSAddr for the default's
// fallback); the HTTP listener is left out, with a warning, when its
// address cannot be bound. Listen starts issuing the certificate in the
// background, so the first handshake does not wait for it.
func (s *Server) Listen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpsLns != nil {
		return errors.New("devproxy: Listen called twice")
	}
	httpsLns, err := s.listenHTTPS(ctx)
	if err != nil {
		return err
	}
	var httpLns []net.Listener
	if s.plain != nil {
		if httpLns, err = s.httpSpec.listen(ctx, "HTTP", s.log); err != nil {
			// The plain-HTTP listener only redirects to HTTPS (or passes
			// through): without it, the HTTPS URL still works.
			s.log.Warn(withHolder(err).Error() + "; serving HTTPS only, without the plain-HTTP listener that sends http:// to HTTPS (choose a free address with --http, or --http off)")
			httpLns = nil
		}
	}
	s.httpsLns, s.httpLns = httpsLns, httpLns
	go func() {
		if _, err := s.certs.Certificate(); err != nil {
			s.log.Error(err.Error())
		}
	}()
	return nil
}

// portTries is how many ports after the default HTTPS port Listen tries
// when that one is taken, as Vite's dev server does.
const portTries = 20

// listenHTTPS binds the HTTPS listeners. When the address is the default
// and its port is taken (another project's server, often), the next ports
// are tried and the one chosen is logged; an address given explicitly is
// bound as given or not at all, and its *ListenError suggests a port that
// is free.
func (s *Server) listenHTTPS(ctx context.Context) ([]net.Listener, error) {
	lns, err := s.httpsSpec.listen(ctx, "HTTPS", s.log)
	withHolder(err)
	var le *ListenError
	if err == nil || !errors.As(err, &le) || !le.InUse() || s.httpsSpec.port == "0" {
		return lns, err
	}
	if !s.httpsMoves {
		le.Suggest = s.httpsSpec.nextFreePort(ctx)
		return nil, le
	}
	first, _ := strconv.Atoi(s.httpsSpec.port)
	for port := first + 1; port <= first+portTries && port <= 65535; port++ {
		lns, err = s.httpsSpec.withPort(port).listen(ctx, "HTTPS", s.log)
		if err == nil {
			s.log.Info(fmt.Sprintf("%s is in use%s; serving HTTPS on port %d instead", le.Addr, le.heldBy(), port))
			return lns, nil
		}
		var next *ListenError
		if !errors.As(err, &next) || !next.InUse() {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w, nor can the next %d ports", le, portTries)
}

// HTTPSAddrs returns the bound HTTPS addresses, after Listen.
func (s *Server) HTTPSAddrs() []net.Addr { return addrs(&s.mu, &s.httpsLns) }

// HTTPAddrs returns the bound plain-HTTP addresses, after Listen.
func (s *Server) HTTPAddrs() []net.Addr { return addrs(&s.mu, &s.httpLns) }

func addrs(mu *sync.Mutex, lns *[]net.Listener) []net.Addr {
	mu.Lock()
	defer mu.Unlock()
	var out []net.Addr
	for _, ln := range *lns {
		out = append(out, ln.Addr())
	}
	return out
}

// URL returns the main HTTPS URL, such as "https://localhost:8443", after
// Listen.
func (s *Server) URL() string {
	return "https://" + s.urlHost("localhost", s.httpsPort(), "443")
}

// HTTPURL returns the plain-HTTP URL, or "" when the HTTP listener is off.
func (s *Server) HTTPURL() string {
	a := s.HTTPAddrs()
	if len(a) == 0 {
		return ""
	}
	return "http://" + s.urlHost("localhost", portOf(a[0]), "80")
}

// URLs returns every HTTPS URL the certificate is valid for: localhost,
// each extra host name, and the bound loopback addresses.
func (s *Server) URLs() []string {
	port := s.httpsPort()
	var out []string
	for _, n := range s.names {
		if n == "::1" && !s.boundIPv6Loopback() {
			continue
		}
		if ip := net.ParseIP(n); ip != nil && !s.httpsSpec.serves(ip) {
			continue
		}
		out = append(out, "https://"+s.urlHost(n, port, "443"))
	}
	return out
}

func (s *Server) boundIPv6Loopback() bool {
	for _, a := range s.HTTPSAddrs() {
		if ta, ok := a.(*net.TCPAddr); ok && ta.IP.Equal(net.IPv6loopback) {
			return true
		}
	}
	return false
}

func (s *Server) urlHost(host, port, defaultPort string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == defaultPort {
		return host
	}
	return host + ":" + port
}

func (s *Server) httpsPort() string {
	a := s.HTTPSAddrs()
	if len(a) == 0 {
		return s.httpsSpec.port
	}
	return portOf(a[0])
}

func portOfAddr(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

func portOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return strconv.Itoa(ta.Port)
	}
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// RootFile returns the path of the CA root certificate that browsers must
// trust.
func (s *Server) RootFile() string { return s.cfg.CA.RootFile() }

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.Listen(ctx); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// shutdownGrace bounds the graceful part of a shutdown: how long Serve
// waits, once its context ends, for requests in flight and for
// http.Server.Shutdown to see every connection go; whatever is still open
// then is closed. Short, because this is a development server and Ctrl-C
// should return the prompt at once, and because with a browser tab open it
// is usually the whole wait (see shutdown); event streams and WebSockets,
// which never finish by themselves, are ended without waiting for it.
const shutdownGrace = time.Second

// Serve serves on the bound listeners (calling Listen first if needed) until
// ctx ends, then shuts down gracefully: it stops accepting, lets requests in
// flight finish for a moment, and closes WebSockets and streams. It returns
// nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("devproxy: Serve called twice")
	}
	s.serving = true
	bound := s.httpsLns != nil
	s.mu.Unlock()
	if !bound {
		if err := s.Listen(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	httpsLns, httpLns := s.httpsLns, s.httpLns
	s.mu.Unlock()

	// Requests get a base context of their own, cancelled only after the
	// graceful shutdown, so that shutting down does not abort requests in
	// flight yet does end hijacked WebSockets, which Shutdown ignores.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	errLog := newServerLog(s.log, s.cfg.CA.RootFile())

	httpsSrv := s.newHTTPServer(s.https, base, errLog)
	httpsSrv.TLSConfig = s.tlsConfig()
	// HTTP/2 and HTTP/1.1 over TLS, chosen by ALPN; no cleartext HTTP/2.
	httpsSrv.Protocols = new(http.Protocols)
	httpsSrv.Protocols.SetHTTP1(true)
	httpsSrv.Protocols.SetHTTP2(true)
	servers := []*http.Server{httpsSrv}
	var plainSrv *http.Server
	if len(httpLns) > 0 {
		plainSrv = s.newHTTPServer(s.plain, base, errLog)
		servers = append(servers, plainSrv)
	}

	errc := make(chan error, len(httpsLns)+len(httpLns))
	for _, ln := range httpsLns {
		go func() { errc <- httpsSrv.ServeTLS(ln, "", "") }()
	}
	for _, ln := range httpLns {
		go func() { errc <- plainSrv.Serve(ln) }()
	}
	n := len(httpsLns) + len(httpLns)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		n--
	}
	s.shutdown(ctx, servers)
	cancelBase()
	if s.proxy != nil {
		s.proxy.transport.CloseIdleConnections()
	}
	for ; n > 0; n-- {
		if err := <-errc; serveErr == nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	if s.static != nil {
		s.static.close()
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		return fmt.Errorf("serving: %w", serveErr)
	}
	return nil
}

// newHTTPServer returns the settings both listeners share.
func (s *Server) newHTTPServer(h http.Handler, base context.Context, errLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errLog,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}

// shutdown is http.Server.Shutdown on every server, bounded by
// shutdownGrace, then Close for whatever is left.
//
// Shutdown closes the listeners and the idle HTTP/1.1 connections, and
// sends GOAWAY on each HTTP/2 connection; net/http's HTTP/2 server then
// closes a connection once its streams are done and the client has closed
// it, or a second later if the client keeps it (golang.org/issue/18701:
// closing first could make the kernel reset data the client has not read
// yet). Chromium closes an idle connection as soon as it reads the GOAWAY,
// but it often holds a second connection it has not sent a request on yet
// (a preconnect), which Shutdown does not count as idle for its first
// seconds: Shutdown waits for it until shutdownGrace ends. docs/serve.md
// gives what each case costs.
func (s *Server) shutdown(ctx context.Context, servers []*http.Server) {
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(shutCtx); err != nil {
				s.log.Debug("graceful shutdown cut short; closing the connections left", "err", err)
				srv.Close()
			}
		})
	}
	if s.proxy != nil {
		// Event streams never finish by themselves; end them now rather
		// than at the end of the grace period.
		s.proxy.streams.closeAll()
	}
	wg.Wait()
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return list
		}
	}
	return append(list, s)
}

// certIPs returns the addresses, besides loopback, that browsers may use to
// reach the HTTPS listener: the bound address, or every address of the
// machine when bound to 0.0.0.0 or [::] (to test from a phone on the LAN).
func certIPs(spec listenSpec) []net.IP {
	var out []net.IP
	for _, h := range spec.hosts {
		ip := net.ParseIP(h)
		switch {
		case ip == nil || ip.IsLoopback():
		case ip.IsUnspecified():
			addrs, err := net.InterfaceAddrs()
			if err != nil {
				continue
			}
			for _, a := range addrs {
				in, ok := a.(*net.IPNet)
				if !ok || in.IP.IsLoopback() || in.IP.IsLinkLocalUnicast() || (ip.To4() != nil && in.IP.To4() == nil) {
					continue
				}
				out = append(out, in.IP)
			}
		default:
			out = append(out, ip)
		}
	}
	return out
}
