package devproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/httpsguard/httpsguard/internal/tlsdefaults"
)

// listenSpec is a parsed listen address.
type listenSpec struct {
	hosts []string // IP addresses to bind, in order
	// v6Optional means the last host, [::1], is bound only when the machine
	// supports IPv6 ("localhost").
	v6Optional bool
	port       string
}

// parseListenAddr parses "PORT", ":PORT", "localhost:PORT" or "IP:PORT".
// An empty host means localhost, not every interface as in net.Listen: this
// is a development server and must not be reachable from the network unless
// asked for with an explicit 0.0.0.0 or [::].
func parseListenAddr(s string) (listenSpec, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return listenSpec{}, errors.New("empty address")
	}
	host, port := "", s
	if !isDigits(s) {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return listenSpec{}, fmt.Errorf("%q is not PORT, :PORT or HOST:PORT", in)
		}
	}
	if !isDigits(port) {
		return listenSpec{}, fmt.Errorf("%q: port %q is not a number", in, port)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return listenSpec{}, fmt.Errorf("%q: port %s is out of range 0-65535", in, port)
	}
	port = strconv.FormatUint(n, 10)
	switch {
	case host == "" || strings.EqualFold(host, "localhost"):
		return listenSpec{hosts: []string{"127.0.0.1", "::1"}, v6Optional: true, port: port}, nil
	case net.ParseIP(host) != nil && !strings.Contains(host, "%"):
		return listenSpec{hosts: []string{net.ParseIP(host).String()}, port: port}, nil
	}
	return listenSpec{}, fmt.Errorf("%q: the host must be localhost or an IP address such as 127.0.0.1, [::1] or 0.0.0.0", in)
}

// serves reports whether a connection to ip reaches one of the spec's hosts.
func (l listenSpec) serves(ip net.IP) bool {
	for _, h := range l.hosts {
		hip := net.ParseIP(h)
		if hip.Equal(ip) || hip.IsUnspecified() {
			return true
		}
	}
	return false
}

// listen binds every host of the spec on one port. With port 0, the port
// the first listener got is reused for the others, so that
// https://localhost:PORT reaches the server over IPv4 and IPv6 alike.
func (l listenSpec) listen(ctx context.Context, role string, log *slog.Logger) ([]net.Listener, error) {
	var lc net.ListenConfig
	var lns []net.Listener
	port := l.port
	for i, h := range l.hosts {
		addr := net.JoinHostPort(h, port)
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			optional := l.v6Optional && i == len(l.hosts)-1
			switch {
			case optional && !errors.Is(err, syscall.EADDRINUSE):
				// No IPv6 on this machine: localhost resolves to 127.0.0.1 only.
				log.Debug("IPv6 loopback not available", "addr", addr, "err", err)
				continue
			case optional && l.port == "0":
				// The port picked for IPv4 is taken on IPv6; serve IPv4 only
				// rather than fail a request for "any free port".
				log.Debug("IPv6 loopback port taken; serving IPv4 only", "addr", addr)
				continue
			}
			closeAll(lns)
			// Holder is left to the callers that show the error: finding
			// it walks every process's open files, and the search for a
			// free port meets many ports in use.
			return nil, &ListenError{Addr: addr, Role: role, Err: err}
		}
		lns = append(lns, ln)
		if port == "0" {
			port = portOf(ln.Addr())
		}
	}
	return lns, nil
}

// withPort returns the spec on another port.
func (l listenSpec) withPort(port int) listenSpec {
	l.port = strconv.Itoa(port)
	return l
}

// nextFreePort returns the first of the next portTries ports after the
// spec's where every host of the spec can listen now, or "" if none can. It
// binds each to check, and closes it at once.
func (l listenSpec) nextFreePort(ctx context.Context) string {
	first, err := strconv.Atoi(l.port)
	if err != nil {
		return ""
	}
	for port := first + 1; port <= first+portTries && port <= 65535; port++ {
		if lns, err := l.withPort(port).listen(ctx, "", slog.New(slog.DiscardHandler)); err == nil {
			closeAll(lns)
			return strconv.Itoa(port)
		}
	}
	return ""
}

// withHolder fills in the process holding the port of a *ListenError for
// an address in use, where the system can say, and returns err.
func withHolder(err error) error {
	var le *ListenError
	if errors.As(err, &le) && le.InUse() && le.Holder == "" {
		le.Holder = portHolder(le.Addr)
	}
	return err
}

// ListenError reports an address that could not be bound.
type ListenError struct {
	Addr string // the address, such as "127.0.0.1:8443"
	Role string // "HTTPS" or "HTTP"
	Err  error  // the error from the operating system
	// Holder names the process that listens on Addr, such as "node (pid
	// 4242)", when the address is in use and the system says (Linux);
	// otherwise it is empty.
	Holder string
	// Suggest is a port after Addr's that was free when the error was
	// made, for an explicitly given HTTPS address in use; otherwise empty.
	Suggest string
}

// heldBy returns " by HOLDER" or nothing.
func (e *ListenError) heldBy() string {
	if e.Holder == "" {
		return ""
	}
	return " by " + e.Holder
}

// Error says what went wrong in words a developer can act on.
func (e *ListenError) Error() string {
	switch {
	case e.InUse() && e.Holder != "":
		return fmt.Sprintf("%s is already in use by %s, so the %s listener cannot start", e.Addr, e.Holder, e.Role)
	case e.InUse():
		return fmt.Sprintf("%s is already in use (another server listens there), so the %s listener cannot start", e.Addr, e.Role)
	case errors.Is(e.Err, syscall.EACCES):
		return fmt.Sprintf("not allowed to listen on %s: ports below 1024 need administrator rights; use a port such as 8443", e.Addr)
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("cannot listen on %s: the address does not belong to this machine", e.Addr)
	}
	return fmt.Sprintf("listening on %s for %s: %v", e.Addr, e.Role, e.Err)
}

// Unwrap returns the underlying error.
func (e *ListenError) Unwrap() error { return e.Err }

// InUse reports whether the address was taken by another socket.
func (e *ListenError) InUse() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// tlsConfig is the HTTPS listener's TLS configuration. ALPN (h2, then
// http/1.1) comes from the http.Server's Protocols. WebSockets use HTTP/1.1:
// net/http's HTTP/2 server does not announce extended CONNECT (RFC 8441)
// unless GODEBUG=http2xconnect=1, so browsers open a separate HTTP/1.1
// connection for them, which the proxy upgrades.
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: s.certs.GetCertificate,
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tlsdefaults.CipherSuites(),
	}
}

// redirectToHTTPS answers a plain-HTTP request with a redirect to the same
// URL on the HTTPS port. 307, not 301: a permanent redirect is cached by
// browsers for good, and would break "http://localhost:8080" for the next
// project on that port; 307 also keeps the method and body of a POST.
func (s *Server) redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	host := hostname(r.Host)
	if host == "" {
		host = "localhost"
	}
	target := "https://" + s.urlHost(host, s.httpsPort(), "443") + r.URL.RequestURI()
	if r.URL.RequestURI() == "*" {
		target = "https://" + s.urlHost(host, s.httpsPort(), "443") + "/"
	}
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(MarkHeader, "dev, temporary-redirect")
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// hostname returns the host of a Host header without port or brackets.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// pointRedirectsAtHTTPS wraps the passthrough HTTP handler so that a
// redirect to https:// on the same host and the HTTP port, which the
// application or the Policy produce when they force HTTPS (they only know
// the port the request came to), goes to the HTTPS port instead.
func (s *Server) pointRedirectsAtHTTPS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&httpsRedirectWriter{ResponseWriter: w, r: r, s: s}, r)
	})
}

type httpsRedirectWriter struct {
	http.ResponseWriter
	r     *http.Request
	s     *Server
	wrote bool
}

func (w *httpsRedirectWriter) WriteHeader(code int) {
	if !w.wrote && code >= 300 && code < 400 && w.rewrite() {
		// Browsers keep permanent redirects forever, and this one is only
		// true of this development setup: make it temporary, so that
		// http://localhost:8080 is not sent to HTTPS for the next project.
		switch code {
		case http.StatusMovedPermanently:
			code = http.StatusFound
			w.Header().Set(MarkHeader, "dev, temporary-redirect")
		case http.StatusPermanentRedirect:
			code = http.StatusTemporaryRedirect
			w.Header().Set(MarkHeader, "dev, temporary-redirect")
		}
	}
	if code >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *httpsRedirectWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

// rewrite points a Location at https://host:PORT/ on the request's host to
// the HTTPS port, and reports whether it did.
func (w *httpsRedirectWriter) rewrite() bool {
	loc := w.Header().Get("Location")
	if !strings.HasPrefix(strings.ToLower(loc), "https://") {
		return false
	}
	u, err := parseURL(loc)
	if err != nil {
		return false
	}
	reqHost, reqPort := splitHostPortDefault(w.r.Host, "80")
	locHost, locPort := splitHostPortDefault(u.Host, "443")
	if !strings.EqualFold(locHost, reqHost) || (locPort != reqPort && locPort != "443") {
		return false
	}
	u.Host = w.s.urlHost(locHost, w.s.httpsPort(), "443")
	w.Header().Set("Location", u.String())
	return true
}

// Unwrap lets http.ResponseController reach the flusher and hijacker.
func (w *httpsRedirectWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// splitHostPortDefault splits host:port, with def as the port when there is
// none. The host is returned without brackets.
func splitHostPortDefault(hostport, def string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if p == "" {
			p = def
		}
		return h, p
	}
	return hostname(hostport), def
}
