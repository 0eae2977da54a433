package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mholt/acmez/v3/acme"
)

// ErrorKind says why a certificate could not be obtained or renewed, so
// that monitoring can tell a CA outage from a broken configuration.
type ErrorKind string

// The kinds of Error.
const (
	// KindCAUnreachable: the ACME directory could not be reached (DNS,
	// connection refused, timeout, or a TLS certificate the client does
	// not trust). Usually the network or the CA's outage; retried.
	KindCAUnreachable ErrorKind = "ca_unreachable"
	// KindRateLimited: the CA refused because of its rate limits. Retried
	// with backoff; with Let's Encrypt, retries go through its staging
	// server until they succeed there.
	KindRateLimited ErrorKind = "rate_limited"
	// KindChallengeFailed: the CA could not validate the challenges: it
	// could not reach this server on port 80 or 443 under that name (DNS
	// pointing elsewhere, a firewall, a proxy in front), or got the wrong
	// answer.
	KindChallengeFailed ErrorKind = "challenge_failed"
	// KindRejected: the CA refuses this name or request outright (a name
	// it does not issue for, a CAA record, a malformed order).
	KindRejected ErrorKind = "rejected"
	// KindOther is any other failure, such as storage errors.
	KindOther ErrorKind = "other"
)

// Error is a failure to obtain or renew the certificate of one name. The
// server keeps running: the names that have certificates are served, and
// the failed operation is retried.
type Error struct {
	Name    string    // the name the certificate is for
	Kind    ErrorKind // why it failed
	Renewal bool      // a renewal failed (the current certificate is still served)
	Err     error     // the underlying error, from certmagic, acmez or the network
}

func (e *Error) Error() string {
	op := "obtaining a certificate for"
	if e.Renewal {
		op = "renewing the certificate of"
	}
	var what string
	switch e.Kind {
	case KindCAUnreachable:
		what = "the ACME CA is unreachable"
	case KindRateLimited:
		what = "the CA rate-limits this account or name"
	case KindChallengeFailed:
		what = "the CA could not validate the challenge (it must reach this server on ports 80 or 443 at that name)"
	case KindRejected:
		what = "the CA refuses to issue for this name"
	default:
		what = "it failed"
	}
	return fmt.Sprintf("autotls: %s %s: %s: %v", op, e.Name, what, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// classify wraps err, from an attempt to obtain or renew name, in an Error
// of the right kind. It reads the RFC 8555 problem document when the CA
// sent one, and the network error when it could not be reached.
func classify(name string, renewal bool, err error) *Error {
	e := &Error{Name: name, Renewal: renewal, Err: err, Kind: KindOther}
	var problem acme.Problem
	var netErr net.Error
	var urlErr *url.Error
	var unknownAuthority x509.UnknownAuthorityError
	var certInvalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var tlsRecord tls.RecordHeaderError
	switch {
	case errors.As(err, &problem):
		e.Kind = problemKind(problem)
	case strings.Contains(err.Error(), acme.ProblemTypeRateLimited):
		// a problem document flattened into text on its way up
		e.Kind = KindRateLimited
	case errors.As(err, &unknownAuthority), errors.As(err, &certInvalid), errors.As(err, &hostname),
		errors.As(err, &tlsRecord), errors.As(err, &netErr), errors.As(err, &urlErr),
		errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindCAUnreachable
	}
	return e
}

// problemKind maps an ACME problem type (RFC 8555 §6.7) to an ErrorKind.
func problemKind(p acme.Problem) ErrorKind {
	switch p.Type {
	case acme.ProblemTypeRateLimited:
		return KindRateLimited
	case acme.ProblemTypeConnection, acme.ProblemTypeDNS, acme.ProblemTypeIncorrectResponse,
		acme.ProblemTypeTLS, acme.ProblemTypeUnauthorized:
		return KindChallengeFailed
	case acme.ProblemTypeRejectedIdentifier, acme.ProblemTypeUnsupportedIdentifier, acme.ProblemTypeCAA,
		acme.ProblemTypeMalformed, acme.ProblemTypeBadCSR, acme.ProblemTypeExternalAccountRequired:
		return KindRejected
	case acme.ProblemTypeCompound:
		for _, sp := range p.Subproblems {
			if k := problemKind(sp.Problem); k != KindOther {
				return k
			}
		}
	}
	return KindOther
}
