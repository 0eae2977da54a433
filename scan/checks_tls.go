package scan

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

var tlsChecks = []CheckSpec{
	{
		ID: "HGS-TLS-001", Title: "HTTPS reachable", Category: CategoryTLS,
		Description: "A TLS handshake succeeds on the HTTPS port. Fails when the server turns every handshake down (a TLS alert) or answers with something that is not TLS. When nothing could be asked (the name does not resolve, the port refuses connections, no answer in time) the check is an error naming that cause, and the result has no grade.",
		Fix:         "Serve the site over HTTPS on port 443 (or the port given with --https-port).",
		Outcomes: []Outcome{
			{Result: "https-reachable", Status: StatusPass},
			{Result: "https-handshake-only", Status: StatusPass},
			{Result: "https-unreachable", Status: StatusFail, Impact: -100},
		},
		decide: decideReachable,
	},
	{
		ID: "HGS-TLS-002", Title: "Certificate chain valid for the host", Category: CategoryTLS,
		Description: "The served chain verifies for the host name against the system roots and any --ca-file; the evidence names the roots that trusted it. Fails on an unknown authority, a name mismatch, an expired or not-yet-valid certificate.",
		Fix:         "Serve a certificate from a trusted CA whose subjectAltName covers the host, with the full intermediate chain.",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS"},
		Outcomes: []Outcome{
			{Result: "certificate-chain-valid", Status: StatusPass},
			{Result: "certificate-chain-invalid", Status: StatusFail, Impact: -40},
		},
		decide: func(o *observations) verdict {
			if o.tlsState() == nil {
				return errored("No TLS handshake succeeded, so no certificate chain was seen.", o.handshakeError())
			}
			v := o.verification()
			if v.ok {
				return decided("certificate-chain-valid", fmt.Sprintf("The certificate chain is valid for %s, trusted by %s.", o.t.host, trustName(v.trustedBy)), "trusted by: "+v.trustedBy)
			}
			return decided("certificate-chain-invalid", sentence(fmt.Sprintf("The certificate chain does not verify for %s: %s", o.t.host, v.err)),
				v.err, "roots tried: "+strings.Join(o.rootsTried, ", "))
		},
	},
	{
		ID: "HGS-TLS-003", Title: "Certificate expiry", Category: CategoryTLS,
		Description: "Days until the leaf certificate expires: warns under 30 days, fails under 7 days, once expired or before it is valid. A short-lived certificate (a whole life under 30 days: Let's Encrypt's six-day certificates, Caddy's and `httpsguard serve`'s local leaves) is judged on the share of its life left instead — warns under a quarter, fails under an eighth — since automation renews it long before 7 days and it would otherwise always fail.",
		Fix:         "Renew the certificate, and automate renewal (ACME) so it is replaced a month before it expires.",
		Outcomes: []Outcome{
			{Result: "certificate-valid", Status: StatusPass},
			{Result: "certificate-expires-within-30-days", Status: StatusWarn, Impact: -5},
			{Result: "certificate-expires-within-7-days", Status: StatusFail, Impact: -30},
			{Result: "certificate-expired", Status: StatusFail, Impact: -40},
			{Result: "certificate-not-yet-valid", Status: StatusFail, Impact: -40},
		},
		decide: func(o *observations) verdict {
			leaf, v, ok := o.leaf()
			if !ok {
				return v
			}
			days := daysLeft(leaf.NotAfter, o.now)
			ev := fmt.Sprintf("not after %s (%d days left)", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), days)
			warnAt, failAt := expiryThresholds(leaf)
			left := leaf.NotAfter.Sub(o.now)
			switch {
			case o.now.Before(leaf.NotBefore):
				return decided("certificate-not-yet-valid", "The certificate is not valid yet.", "not before "+leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
			case left < 0:
				return decided("certificate-expired", fmt.Sprintf("The certificate expired %d days ago.", -days), ev)
			case left < failAt:
				return decided("certificate-expires-within-7-days", fmt.Sprintf("The certificate expires in %s.", humanLeft(left)), ev)
			case left < warnAt:
				return decided("certificate-expires-within-30-days", fmt.Sprintf("The certificate expires in %s.", humanLeft(left)), ev)
			case warnAt < 30*24*time.Hour:
				return decided("certificate-valid", fmt.Sprintf("The short-lived certificate (%s in all) has %s left; renewal is evidently automated.", humanLeft(leaf.NotAfter.Sub(leaf.NotBefore)), humanLeft(left)), ev)
			}
			return decided("certificate-valid", fmt.Sprintf("The certificate is valid for %d more days.", days), ev)
		},
	},
	{
		ID: "HGS-TLS-004", Title: "No obsolete protocol versions", Category: CategoryTLS,
		Description: "Each protocol version is tried on its own connection. Fails when TLS 1.0 or TLS 1.1 is accepted (RFC 8996 deprecates both). A version counts as refused only when the server turns it down (an alert, or hanging up on the offer); a probe that gets no answer makes the check an error, never a pass.",
		Fix:         "Set the server's minimum protocol version to TLS 1.2.",
		Refs:        []string{"https://www.rfc-editor.org/rfc/rfc8996"},
		Outcomes: []Outcome{
			{Result: "tls-obsolete-versions-refused", Status: StatusPass},
			{Result: "tls-obsolete-versions-accepted", Status: StatusFail, Impact: -15},
		},
		decide: func(o *observations) verdict {
			accepted, v, ok := o.versionsAccepted()
			if !ok {
				return v
			}
			var oldOnes []string
			for _, ver := range accepted {
				if ver < tls.VersionTLS12 {
					oldOnes = append(oldOnes, versionName(ver))
				}
			}
			if len(oldOnes) > 0 {
				return decided("tls-obsolete-versions-accepted", "The server accepts obsolete "+strings.Join(oldOnes, " and ")+".", acceptedEvidence(accepted))
			}
			return decided("tls-obsolete-versions-refused", "The server refuses TLS 1.0 and 1.1.", acceptedEvidence(accepted))
		},
	},
	{
		ID: "HGS-TLS-005", Title: "TLS 1.3 supported", Category: CategoryTLS,
		Description: "Warns when the server does not accept TLS 1.3.",
		Fix:         "Enable TLS 1.3 on the server or load balancer.",
		Outcomes: []Outcome{
			{Result: "tls13-supported", Status: StatusPass},
			{Result: "tls13-not-supported", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			accepted, v, ok := o.versionsAccepted()
			if !ok {
				return v
			}
			if slices.Contains(accepted, tls.VersionTLS13) {
				return decided("tls13-supported", "The server accepts TLS 1.3.", acceptedEvidence(accepted))
			}
			return decided("tls13-not-supported", "The server does not accept TLS 1.3.", acceptedEvidence(accepted), o.tls.versions[tls.VersionTLS13].Error())
		},
	},
	{
		ID: "HGS-TLS-006", Title: "No weak TLS 1.2 cipher suites", Category: CategoryTLS,
		Description: "TLS 1.2 handshakes offering only weak suites (CBC, RSA key exchange, 3DES, RC4) list those the server accepts. Fails on RSA key exchange, 3DES or RC4; warns on ECDHE with CBC.",
		Fix:         "Allow only ECDHE suites with AES-GCM or ChaCha20-Poly1305 for TLS 1.2.",
		Refs:        []string{"https://wiki.mozilla.org/Security/Server_Side_TLS"},
		Outcomes: []Outcome{
			{Result: "tls12-ciphers-strong", Status: StatusPass},
			{Result: "tls12-ciphers-cbc", Status: StatusWarn, Impact: -5},
			{Result: "tls12-ciphers-insecure", Status: StatusFail, Impact: -10},
		},
		decide: func(o *observations) verdict {
			if _, v, ok := o.versionsAccepted(); !ok {
				return v
			}
			if o.tls.versions[tls.VersionTLS12] != nil {
				return skip("The server does not accept TLS 1.2, so it has no TLS 1.2 cipher suites.")
			}
			var names []string
			insecure := false
			for _, id := range o.tls.weak {
				names = append(names, suiteName(id))
				insecure = insecure || insecureSuite(id)
			}
			msg := fmt.Sprintf("The server accepts %d weak TLS 1.2 cipher suite(s).", len(names))
			switch {
			case insecure:
				return decided("tls12-ciphers-insecure", msg, names...)
			case o.tls.weakErr != nil:
				// The listing stopped on a probe that got no answer: an
				// insecure suite may be missing from it.
				return errored("The cipher suite probes did not complete.", o.tls.weakErr)
			case len(names) == 0:
				return decided("tls12-ciphers-strong", "The server accepts only forward-secret AEAD cipher suites for TLS 1.2.")
			default:
				return decided("tls12-ciphers-cbc", msg, names...)
			}
		},
	},
	{
		ID: "HGS-TLS-007", Title: "Certificate key strength", Category: CategoryTLS,
		Description: "The leaf key's type and size. Fails on RSA under 2048 bits or an elliptic curve under 256 bits.",
		Fix:         "Issue the certificate with an ECDSA P-256 key or an RSA key of at least 2048 bits.",
		Outcomes: []Outcome{
			{Result: "certificate-key-strong", Status: StatusPass},
			{Result: "certificate-key-unusual", Status: StatusWarn, Impact: -5},
			{Result: "certificate-key-ec-weak", Status: StatusFail, Impact: -20},
			{Result: "certificate-key-rsa-weak", Status: StatusFail, Impact: -20},
		},
		decide: func(o *observations) verdict {
			leaf, v, ok := o.leaf()
			if !ok {
				return v
			}
			kt, bits := keyInfo(leaf)
			kev := fmt.Sprintf("%s %d bits", kt, bits)
			switch {
			case kt == "RSA" && bits < 2048:
				return decided("certificate-key-rsa-weak", fmt.Sprintf("The certificate has a weak %d-bit RSA key.", bits), kev)
			case kt == "ECDSA" && bits < 256:
				return decided("certificate-key-ec-weak", fmt.Sprintf("The certificate has a weak %d-bit elliptic-curve key.", bits), kev)
			case kt == "RSA" || kt == "ECDSA" || kt == "Ed25519":
				return decided("certificate-key-strong", "The certificate key is strong: "+kev+".", kev)
			}
			return decided("certificate-key-unusual", "The certificate key type is unusual: "+kev+".", kev)
		},
	},
}

// decideReachable judges HGS-TLS-001: a handshake that worked passes; one
// the server turned down (a TLS alert, or no TLS at all on the port) fails;
// anything else (no such host, a refused port, a timeout) is not an answer
// about TLS, and the check says why it could not tell.
func decideReachable(o *observations) verdict {
	st := o.tlsState()
	if st == nil {
		cause := o.handshakeError()
		switch cause.Kind {
		case KindTLS, KindNotTLS:
			return decided("https-unreachable", "No TLS handshake succeeds on the HTTPS port: "+sentence(cause.Message), cause.Message)
		}
		return errored("No TLS handshake could be attempted.", cause)
	}
	ev := []string{fmt.Sprintf("%s, %s", versionName(st.Version), tls.CipherSuiteName(st.CipherSuite))}
	if o.https != nil && o.https.final == nil && o.https.err != nil {
		return decided("https-handshake-only", "TLS handshakes succeed, but no HTTP response came back over HTTPS.", append(ev, o.https.err.Error())...)
	}
	return decided("https-reachable", "HTTPS answers.", ev...)
}

// leaf returns the leaf certificate served on the HTTPS port; when there
// is none, v is the verdict for a check that needs one.
func (o *observations) leaf() (leaf *x509.Certificate, v verdict, ok bool) {
	st := o.tlsState()
	if st == nil {
		return nil, errored("No TLS handshake succeeded, so no certificate was seen.", o.handshakeError()), false
	}
	if len(st.PeerCertificates) == 0 {
		// TLS 1.2 and 1.3 always send one; this is an anonymous suite
		// Go would not even negotiate.
		return nil, errored("The server sent no certificate.", &Error{Kind: KindTLS, Detail: "no_certificate",
			Message: "the server completed the handshake without a certificate", Fix: tlsFix("")}), false
	}
	return st.PeerCertificates[0], verdict{}, true
}

// versionsAccepted returns the protocol versions the server accepted,
// oldest first. A version counts as refused only when the server turned it
// down (an alert, or hanging up on the offer); a probe that timed out or
// could not connect says nothing, and v is then the verdict of a check that
// needs the probes: an error, whatever the other probes found.
func (o *observations) versionsAccepted() (accepted []uint16, v verdict, ok bool) {
	if o.tlsState() == nil {
		return nil, errored("No TLS handshake succeeded, so no protocol version was accepted.", o.handshakeError()), false
	}
	if o.tls == nil || len(o.tls.versions) == 0 {
		cause := o.deadline
		if cause == nil {
			cause = &Error{Kind: KindInternal, Message: "the protocol probes did not run", Fix: fixInternal}
		}
		return nil, errored("The protocol probes did not run.", cause), false
	}
	for _, ver := range tlsVersions {
		err, probed := o.tls.versions[ver]
		switch {
		case !probed:
			return nil, errored("The "+versionName(ver)+" probe did not run.", &Error{Kind: KindInternal, Message: versionName(ver) + " was not probed", Fix: fixInternal}), false
		case err == nil:
			accepted = append(accepted, ver)
		case !probeRefused(err):
			return nil, errored("The "+versionName(ver)+" probe got no answer.", err), false
		}
	}
	return accepted, verdict{}, true
}

func acceptedEvidence(accepted []uint16) string {
	names := make([]string, len(accepted))
	for i, v := range accepted {
		names[i] = versionName(v)
	}
	return "accepted: " + strings.Join(names, ", ")
}

func trustName(by string) string {
	switch by {
	case "system":
		return "the system roots"
	case "custom pool":
		return "the configured roots"
	}
	return "a root from the CA file " + by
}

// expiryThresholds returns how little validity left makes the expiry check
// warn and fail. For ordinary certificates that is 30 and 7 days. A
// certificate whose whole life is shorter than 30 days (Let's Encrypt's
// six-day certificates, Caddy's and "httpsguard serve"'s local leaves) is
// renewed by automation long before those marks, and would otherwise always
// be reported: it is judged on the part of its life left instead, warning
// under a quarter and failing under an eighth (an ACME client renews once a
// third or half remains, so reaching those means renewal has stalled).
func expiryThresholds(leaf *x509.Certificate) (warn, fail time.Duration) {
	const day = 24 * time.Hour
	warn, fail = 30*day, 7*day
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 0 && life < warn {
		warn, fail = life/4, life/8
	}
	return warn, fail
}

// humanLeft renders a remaining validity in days, or hours under two days.
func humanLeft(d time.Duration) string {
	if d < 48*time.Hour {
		h := int(d.Hours())
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
