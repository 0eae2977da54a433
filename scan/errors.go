package scan

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsprobe"
)

// ErrorKind names why something could not be observed. The kinds are a
// fixed list so that a program reading a Result can act on them; Error's
// Message says what happened in words.
type ErrorKind string

// The kinds of Error. Each has its own fix: a name that does not resolve is
// fixed at the DNS provider, a refused port on the server, a timeout
// wherever the time goes.
const (
	// KindInvalidTarget: the target is not a host name, host:port or
	// http(s) URL.
	KindInvalidTarget ErrorKind = "invalid_target"
	// KindDNS: the name does not resolve. Detail is "no_such_host"
	// (NXDOMAIN, or a name with no address record), "server_failure"
	// (SERVFAIL or another resolver error) or "timeout".
	KindDNS ErrorKind = "dns"
	// KindRefused: nothing listens on the port (TCP RST).
	KindRefused ErrorKind = "refused"
	// KindNetwork: the address cannot be reached at all (no route, network
	// down) or the connection failed for another system reason.
	KindNetwork ErrorKind = "network"
	// KindTimeout: a limit ran out. Detail is the step that was waiting:
	// "connect", "handshake", "head" (the status line and headers),
	// "body", or "scan" (the whole target's --timeout).
	KindTimeout ErrorKind = "timeout"
	// KindTLS: the TLS handshake failed. Detail is the alert the server
	// sent ("handshake_failure", "protocol_version"...), "closed" when it
	// hung up during the handshake, or "handshake" for another failure;
	// "no_shared_cipher_suite" when the cipher suite probes show that
	// every suite the server accepts is one browsers no longer offer
	// (the message lists them); "malformed" for an answer that breaks the
	// TLS framing.
	KindTLS ErrorKind = "tls"
	// KindNotTLS: the HTTPS port answered with bytes that are not TLS
	// (plain HTTP, an SSH banner...).
	KindNotTLS ErrorKind = "not_tls"
	// KindClosed: the server closed or reset the connection without a
	// complete answer. Detail is "head" or "body".
	KindClosed ErrorKind = "closed"
	// KindNotHTTP: the server answered with bytes that are not an HTTP
	// response.
	KindNotHTTP ErrorKind = "not_http"
	// KindTooLarge: the response head is larger than browsers accept.
	KindTooLarge ErrorKind = "too_large"
	// KindRedirectLoop: the redirects never end. Detail is "loop" or
	// "too_many".
	KindRedirectLoop ErrorKind = "redirect_loop"
	// KindBadRedirect: a redirect's Location is no http(s) URL.
	KindBadRedirect ErrorKind = "bad_redirect"
	// KindDenied: --deny-private refused the address the name resolves to.
	KindDenied ErrorKind = "denied"
	// KindRequestLimit: the target's request budget (MaxRequests) ran out,
	// or (Detail "tls_probes") the cipher suite probes' limit of
	// ClientHellos did.
	KindRequestLimit ErrorKind = "request_limit"
	// KindHTTPStatus: with --scoring observatory, the page answers a status
	// the Observatory does not grade (1xx, or 4xx/5xx other than 401 and
	// 403).
	KindHTTPStatus ErrorKind = "http_status"
	// KindCancelled: the scan was cancelled before it could finish.
	KindCancelled ErrorKind = "cancelled"
	// KindInternal: a bug in httpsguard.
	KindInternal ErrorKind = "internal"
	// KindUnclassified is the kind of an error read from a schema version 1
	// document, which recorded errors as text only.
	KindUnclassified ErrorKind = "unclassified"
)

// Error says why a target or a check could not be observed: a kind from a
// fixed list, the step it happened in, what happened and what to change. It
// is the error of a Result that has no grade, and of a check whose status is
// StatusError.
type Error struct {
	Kind ErrorKind `json:"kind"`
	// Detail narrows the kind: the DNS answer, the step a timeout
	// interrupted, the TLS alert (see each ErrorKind).
	Detail string `json:"detail,omitempty"`
	// Message says what happened, in one line, naming the URL or address.
	Message string `json:"message"`
	// Fix is what to change for this kind of failure.
	Fix string `json:"fix,omitempty"`

	cause error
}

// Error implements error: the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error, when there is one.
func (e *Error) Unwrap() error { return e.cause }

// UnmarshalJSON reads an error object, or the plain string schema version 1
// wrote (kind KindUnclassified).
func (e *Error) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = Error{Kind: KindUnclassified, Message: s}
		return nil
	}
	type plain Error
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*e = Error(p)
	return nil
}

// asError returns err as an *Error: itself when it is one (or wraps one),
// else an internal error with its text.
func asError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Message: err.Error(), Fix: fixInternal, cause: err}
}

const fixInternal = "This is a bug in httpsguard: please report it with the output of --debug."

// step is how far one request got before it failed, as the transport's
// trace saw it.
type step struct {
	connectDone   bool // a TCP connection is up
	handshakeSeen bool // a TLS handshake started
	handshakeDone bool // and finished
	gotConn       bool // the request has a connection to go on
	firstByte     bool // a first byte of the response arrived
	// headBytes is how many bytes the connection read while waiting for
	// this response's head (raw bytes, TLS records included).
	headBytes int64
}

// classify names the cause of a failed request (method, "" for a
// connection or handshake) to rawURL, a URL or host:port. err is what the
// transport (or a dial or handshake) returned, st how far the request got,
// o the scanner's limits, scanExpired whether the whole target's --timeout
// had run out.
func classify(err error, method, rawURL string, st step, o *Options, scanExpired bool) *Error {
	var already *Error
	if errors.As(err, &already) {
		return already
	}
	host, port := hostPortOf(rawURL)
	e := &Error{cause: err}
	cause := cleanNetErr(err)
	at := strings.TrimSpace(method + " " + rawURL)
	var dnsErr *net.DNSError
	var alert tls.AlertError
	var recHdr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, errRequestLimit):
		e.Kind = KindRequestLimit
		e.Message = fmt.Sprintf("%s: not requested, the target's budget of %d requests was used up", at, o.MaxRequests)
		e.Fix = "Raise the request budget (Options.MaxRequests); a site whose redirects use it up usually redirects in a loop."
	case errors.Is(err, ErrDeniedAddress):
		e.Kind = KindDenied
		e.Message = fmt.Sprintf("%s: %v", at, cause)
		e.Fix = host + " resolves to an address that is not on the public internet; --deny-private refuses it. Scan it without --deny-private if it is meant to be private."
	case errors.As(err, &dnsErr):
		e.Kind = KindDNS
		name := dnsErr.Name
		if name == "" {
			name = host
		}
		switch {
		case dnsErr.IsNotFound:
			e.Detail = "no_such_host"
			e.Message = fmt.Sprintf("%s does not resolve: no such host (the DNS has no address record for it)", name)
			e.Fix = fmt.Sprintf("Create an A or AAAA record for %s at your DNS provider, or correct the name. This is a DNS record, not a server setting.", name)
		case dnsErr.IsTimeout:
			e.Detail = "timeout"
			e.Message = fmt.Sprintf("%s does not resolve: no DNS answer in time", name)
			e.Fix = fmt.Sprintf("Check that the name servers for %s answer (the domain's NS records at your registrar and DNS provider).", name)
		default:
			e.Detail = "server_failure"
			e.Message = fmt.Sprintf("%s does not resolve: the DNS lookup failed (%s)", name, dnsErr.Err)
			e.Fix = fmt.Sprintf("The DNS servers for %s fail to answer (SERVFAIL): check the zone's delegation and DNSSEC signatures at your DNS provider.", name)
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = KindRefused
		e.Message = fmt.Sprintf("%s: connection refused (nothing listens on %s port %s)", at, host, port)
		e.Fix = fmt.Sprintf("Start the web server or load balancer on port %s, or open the port in the firewall; give the right port with --https-port or --http-port if the site uses another.", port)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL):
		e.Kind = KindNetwork
		e.Message = fmt.Sprintf("%s: %v", at, cause)
		e.Fix = fmt.Sprintf("%s cannot be reached from here (no route): check the address its name resolves to and the network path.", host)
	case errors.Is(err, context.Canceled):
		e.Kind = KindCancelled
		e.Message = fmt.Sprintf("%s: the scan was cancelled", at)
		e.Fix = "Run the scan again."
	case errors.As(err, &recHdr):
		e.Kind = KindNotTLS
		e.Message = fmt.Sprintf("%s: %s port %s does not speak TLS (its first bytes are %q)", at, host, port, recHdr.RecordHeader[:])
		e.Fix = fmt.Sprintf("Serve HTTPS on port %s: it answers with another protocol (plain HTTP, SSH...). Give the right port with --https-port if HTTPS is elsewhere.", port)
	case errors.As(err, &alert):
		e.Kind = KindTLS
		e.Detail = tlsprobe.AlertName(byte(alert))
		e.Message = fmt.Sprintf("%s: the TLS handshake failed: alert %q", at, e.Detail)
		e.Fix = tlsFix(e.Detail)
	case remoteAlert(err) != nil:
		e.Kind = KindTLS
		e.Detail = tlsprobe.AlertName(byte(*remoteAlert(err)))
		e.Message = fmt.Sprintf("%s: the TLS handshake failed: the server sent the alert %q", at, e.Detail)
		e.Fix = tlsFix(e.Detail)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
		limit := o.RequestTimeout
		switch {
		case scanExpired:
			e.Detail, limit = "scan", o.Timeout
		case !st.connectDone && !st.gotConn:
			e.Detail, limit = "connect", o.ConnectTimeout
		case st.handshakeSeen && !st.handshakeDone:
			e.Detail, limit = "handshake", o.HandshakeTimeout
		default:
			e.Detail = "head"
		}
		e.Message = fmt.Sprintf("%s: %s", at, timeoutWhat(e.Detail, limit))
		e.Fix = timeoutFix(e.Detail, host, port)
	case st.handshakeSeen && !st.handshakeDone:
		// The server hung up (or sent garbage) in the middle of the
		// handshake.
		e.Kind = KindTLS
		e.Detail = "handshake"
		if closedConn(err) {
			e.Detail = "closed"
		}
		e.Message = fmt.Sprintf("%s: the TLS handshake failed: %v", at, cause)
		e.Fix = tlsFix(e.Detail)
	case closedConn(err) || st.gotConn && !st.firstByte:
		// net/http also reports a connection the server closed before
		// the request went out ("server closed idle connection") with a
		// sentinel it does not export: no byte of a response came.
		e.Kind, e.Detail = KindClosed, "head"
		e.Message = fmt.Sprintf("%s: the server closed the connection without answering (%v)", at, cause)
		e.Fix = "The server accepts the connection but drops it: check its error log, and a proxy in front of it that may cut requests it cannot route."
	case st.gotConn && st.headBytes >= o.MaxHeaderBytes:
		e.Kind = KindTooLarge
		e.Message = fmt.Sprintf("%s: the response head is larger than %d bytes, more than browsers accept", at, o.MaxHeaderBytes)
		e.Fix = "Send a smaller response head: browsers refuse one over 256 KiB (Chromium's limit; an oversized cookie or a header a proxy repeats is the usual cause)."
	case st.gotConn:
		// The connection is up and the transport could not read an HTTP
		// response from it, within the head's size limit.
		e.Kind = KindNotHTTP
		e.Message = fmt.Sprintf("%s: the answer is not an HTTP response (%v)", at, cause)
		e.Fix = fmt.Sprintf("Check what listens on %s port %s: it answers with bytes that are not HTTP (another service, or a proxy speaking another protocol to the client).", host, port)
	default:
		e.Kind = KindNetwork
		e.Message = fmt.Sprintf("%s: %v", at, cause)
		e.Fix = fmt.Sprintf("%s could not be reached: check the host, the port and the network path.", host)
	}
	return e
}

// closedConn reports whether err means the peer closed or reset the
// connection.
func closedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// timeoutWhat says what a timeout interrupted.
func timeoutWhat(detail string, limit time.Duration) string {
	switch detail {
	case "connect":
		return "no TCP connection within " + limit.String()
	case "handshake":
		return "no completed TLS handshake within " + limit.String()
	case "body":
		return "the body did not arrive completely within " + limit.String()
	case "scan":
		return "the target's time limit of " + limit.String() + " ran out"
	}
	return "no complete response head (status line and headers) within " + limit.String()
}

func timeoutFix(detail, host, port string) string {
	switch detail {
	case "connect":
		return fmt.Sprintf("Nothing answers connections to %s port %s: a firewall may drop them, or the host is down.", host, port)
	case "handshake":
		return "The server accepts connections but does not finish the TLS handshake: check its TLS configuration, and whether it is overloaded."
	case "body":
		return "The server starts the response but sends the body too slowly: check the application and any proxy buffering in front of it."
	case "scan":
		return "The site answers too slowly for the time limit; scan with a longer --timeout, and look at what makes it slow."
	}
	return "The server accepts the request but does not answer in time: check the application behind it (it may hang) and the proxy's timeouts."
}

// tlsFix is the advice for a failed handshake.
func tlsFix(detail string) string {
	switch detail {
	case "protocol_version":
		return "The server refuses the TLS versions browsers offer: enable TLS 1.2 and TLS 1.3."
	case "handshake_failure", "insufficient_security":
		return "The server and browsers share no cipher suite or key exchange: enable TLS 1.3 and ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2."
	case "unrecognized_name":
		return "The server has no certificate for this name (SNI): configure a certificate whose subjectAltName covers it."
	case "closed":
		return "The server hangs up during the TLS handshake: it may not serve TLS on this port, or it rejects this name (SNI). Check its TLS configuration and error log."
	}
	return "The TLS handshake fails: check the server's TLS configuration (versions, cipher suites, certificate) and its error log."
}

// remoteAlert returns the alert a TLS peer sent, when err is one. crypto/tls
// reports a received alert as a *net.OpError "remote error" holding a value
// of its unexported alert type (a uint8); tls.AlertError is only for QUIC.
// The alert's code is read from that value's type and kind, not from its
// text.
func remoteAlert(err error) *tls.AlertError {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return nil
	}
	v := reflect.ValueOf(op.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return nil
	}
	a := tls.AlertError(v.Uint())
	return &a
}

// hostPortOf returns the host and port a URL or host:port goes to.
func hostPortOf(raw string) (host, port string) {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		host, port = u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		return host, port
	}
	if h, p, err := net.SplitHostPort(raw); err == nil {
		return h, p
	}
	return raw, ""
}

// probeRefused reports whether a TLS probe's error means the server
// turned the offer down, as opposed to a failure that says nothing about
// what it accepts (a timeout, a refused connection): an alert, or hanging
// up on the ClientHello, as some servers do.
func probeRefused(err error) bool {
	var alert tls.AlertError
	if errors.As(err, &alert) || remoteAlert(err) != nil {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind == KindTLS
	}
	return false
}
