package scan

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/internal/tlsprobe"
)

var tlsChecks = []CheckSpec{
	{
		ID: "HGS-TLS-001", Title: "HTTPS reachable", Category: CategoryTLS,
		Description: "A TLS handshake as a browser makes it succeeds on the HTTPS port. Fails when the server turns every such handshake down (a TLS alert) or answers with something that is not TLS; when the cipher suite probes show why — the server accepts only versions or cipher suites browsers no longer offer (DHE, static RSA, 3DES, CAMELLIA...) — the failure names them (`https-no-shared-cipher-suite`). When nothing could be asked (the name does not resolve, the port refuses connections, no answer in time) the check is an error naming that cause, and the result has no grade.",
		Fix:         "Serve the site over HTTPS on port 443 (or the port given with --https-port), with TLS 1.2 or 1.3 and the cipher suites browsers offer.",
		Outcomes: []Outcome{
			{Result: "https-reachable", Status: StatusPass},
			{Result: "https-handshake-only", Status: StatusPass},
			{Result: "https-no-shared-cipher-suite", Status: StatusFail, Impact: -100},
			{Result: "https-unreachable", Status: StatusFail, Impact: -100},
		},
		decide: decideReachable,
	},
	{
		ID: "HGS-TLS-002", Title: "Certificate chain valid for the host", Category: CategoryTLS,
		Description: "The served chain verifies for the host name, as a browser verifies it, against the system roots and any --ca-file; the evidence names the roots that trusted it. When it does not, the served certificates say why: a missing intermediate is named with the URL the certificate below it gives for it (`certificate-chain-incomplete`), a self-signed leaf, a root no trust store holds, a name the certificate does not cover; a chain that is complete and trusted but refused for a SHA-1 or MD5 signature (`certificate-signature-rejected`, judged on its own by HGS-TLS-008) or for an expired leaf (`certificate-chain-expired`, HGS-TLS-003); any other failure is `certificate-chain-invalid` with the verifier's words. Each verdict has its own fix.",
		Fix:         "Serve a certificate from a trusted CA whose subjectAltName covers the host, with the full intermediate chain (the leaf, then each intermediate up to the root).",
		Refs:        []string{"https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS"},
		Outcomes: []Outcome{
			{Result: "certificate-chain-valid", Status: StatusPass},
			{Result: "certificate-chain-incomplete", Status: StatusFail, Impact: -40,
				Fix: "Serve the whole chain: the leaf, then each intermediate certificate up to (not including) the root — the CA's \"fullchain\" file; in nginx, ssl_certificate holds the leaf followed by the intermediates."},
			{Result: "certificate-self-signed", Status: StatusFail, Impact: -40,
				Fix: "Serve a certificate from a CA browsers trust (an ACME CA such as Let's Encrypt does it for free). On a private network, install your own CA's root on the clients and pass it to httpsguard with --ca-file."},
			{Result: "certificate-root-untrusted", Status: StatusFail, Impact: -40,
				Fix: "Serve a certificate from a CA browsers trust. If the root is your own private CA, install it on the clients and pass it to httpsguard with --ca-file."},
			{Result: "certificate-name-mismatch", Status: StatusFail, Impact: -40,
				Fix: "Reissue the certificate with this host name in its subjectAltName (browsers do not read the subject's CN), or serve the right certificate for this name (SNI)."},
			{Result: "certificate-signature-rejected", Status: StatusFail, Impact: -40,
				Fix: "Reissue the certificate, and any intermediate signed the same way, with a SHA-256 signature: every public CA has issued those since 2016."},
			{Result: "certificate-chain-expired", Status: StatusFail, Impact: -40, Fix: fixRenew},
			{Result: "certificate-chain-invalid", Status: StatusFail, Impact: -40},
		},
		decide: decideChain,
	},
	{
		ID: "HGS-TLS-003", Title: "Certificate expiry", Category: CategoryTLS,
		Description: "Days until the leaf certificate expires (the leaf of the page's handshake, or of the cipher suite probes' Certificate message when no Go handshake completes): warns under 30 days, fails under 7 days, once expired or before it is valid. A short-lived certificate (a whole life under 30 days: Let's Encrypt's six-day certificates, Caddy's and `httpsguard serve`'s local leaves) is judged on the share of its life left instead — warns under a quarter, fails under an eighth — since automation renews it long before 7 days and it would otherwise always fail.",
		Fix:         fixRenew,
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
			left := leaf.NotAfter.Sub(o.now)
			ev := fmt.Sprintf("not after %s (%d days left)", leaf.NotAfter.UTC().Format(evidenceTime), days)
			if days < 0 {
				ev = fmt.Sprintf("not after %s (expired %s ago)", leaf.NotAfter.UTC().Format(evidenceTime), humanLeft(-left))
			}
			warnAt, failAt := expiryThresholds(leaf)
			switch {
			case o.now.Before(leaf.NotBefore):
				return decided("certificate-not-yet-valid", "The certificate is not valid yet.", "not before "+leaf.NotBefore.UTC().Format(evidenceTime))
			case left < 0:
				return decided("certificate-expired", fmt.Sprintf("The certificate expired %s ago.", humanLeft(-left)), ev)
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
		Description: "Every protocol version from SSL 2.0 to TLS 1.1 is asked about on its own connection, with raw ClientHellos as well as Go's handshakes. Fails when SSL 2.0 or 3.0 is accepted (DROWN, POODLE), and when TLS 1.0 or 1.1 is (RFC 8996 deprecates both). A version counts as refused only when the server turns it down (an alert, or hanging up on the offer); a version no probe got an answer about makes the check an error, unless an obsolete version already accepted fails it.",
		Fix:         "Set the server's minimum protocol version to TLS 1.2, and turn SSL 2.0 and 3.0 off entirely.",
		Refs:        []string{"https://www.rfc-editor.org/rfc/rfc8996", "https://www.rfc-editor.org/rfc/rfc7568"},
		Outcomes: []Outcome{
			{Result: "tls-obsolete-versions-refused", Status: StatusPass},
			{Result: "tls-obsolete-versions-accepted", Status: StatusFail, Impact: -15},
			{Result: "ssl-versions-accepted", Status: StatusFail, Impact: -30},
		},
		decide: decideObsoleteVersions,
	},
	{
		ID: "HGS-TLS-005", Title: "TLS 1.3 supported", Category: CategoryTLS,
		Description: "Warns when the server does not accept TLS 1.3 (asked with a raw ClientHello and a Go handshake, so a server whose TLS 1.3 suites Go does not speak still counts).",
		Fix:         "Enable TLS 1.3 on the server or load balancer.",
		Outcomes: []Outcome{
			{Result: "tls13-supported", Status: StatusPass},
			{Result: "tls13-not-supported", Status: StatusWarn, Impact: -2},
		},
		decide: func(o *observations) verdict {
			table, v, ok := o.versionTable()
			if !ok {
				return v
			}
			ev := offeredEvidence(table)
			vf := o.tls.version(tls.VersionTLS13)
			switch {
			case vf == nil:
				return errored("TLS 1.3 was not probed.", &Error{Kind: KindInternal, Message: "TLS 1.3 was not probed", Fix: fixInternal})
			case vf.offered:
				return decided("tls13-supported", "The server accepts TLS 1.3.", ev)
			case vf.unknown != nil:
				return errored("Whether the server accepts TLS 1.3 could not be told.", vf.unknown)
			}
			return decided("tls13-not-supported", "The server does not accept TLS 1.3.", ev, "TLS 1.3: "+vf.refused)
		},
	},
	{
		ID: "HGS-TLS-006", Title: "No weak cipher suites", Category: CategoryTLS,
		Description: "Every cipher suite the server accepts, on every protocol version (SSL 2.0 to TLS 1.3, about 330 suites, DHE, CAMELLIA, ARIA and CCM included), listed with raw ClientHellos by taking each chosen suite out of the offer until the server refuses. Fails on an insecure suite: no forward secrecy (static RSA or DH, PSK), a 64-bit block cipher (3DES, IDEA: Sweet32), RC4, NULL, anonymous or export-grade; warns on CBC or CCM with an 8-byte tag. Forward secrecy is no check of its own: every suite without it already fails this one, and the result's `forward_secrecy` says how many have it. A list cut short is an error unless an insecure suite already found fails the check.",
		Fix:         "Allow only ECDHE suites with AES-GCM or ChaCha20-Poly1305 for TLS 1.2 (and TLS 1.3's own suites); remove RSA key exchange, DHE, 3DES, RC4 and CBC suites.",
		Refs:        []string{"https://wiki.mozilla.org/Security/Server_Side_TLS"},
		Outcomes: []Outcome{
			{Result: "tls-ciphers-strong", Status: StatusPass},
			{Result: "tls-ciphers-cbc", Status: StatusWarn, Impact: -5},
			{Result: "tls-ciphers-insecure", Status: StatusFail, Impact: -10},
		},
		decide: decideCipherSuites,
	},
	{
		ID: "HGS-TLS-007", Title: "Certificate key strength", Category: CategoryTLS,
		Description: "The leaf key's type and size (the leaf seen as HGS-TLS-003 sees it). Fails on RSA under 2048 bits or an elliptic curve under 256 bits.",
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
	{
		ID: "HGS-TLS-008", Title: "No SHA-1 or MD5 certificate signatures", Category: CategoryTLS,
		Description: "The signature on every served certificate below the root (the leaf and each intermediate on its path). Fails when one is signed with SHA-1 or MD5: browsers have refused them since 2017 and a SHA-1 collision is within reach of a well-funded attacker. The root's own signature is not judged (nothing checks it). testssl.sh rates a SHA-1 leaf the same way, though `openssl verify` still passes its chain.",
		Fix:         "Reissue the certificate (and any intermediate signed the same way) with a SHA-256 signature; every public CA has issued those since 2016.",
		Refs:        []string{"https://security.googleblog.com/2014/09/gradually-sunsetting-sha-1.html"},
		Outcomes: []Outcome{
			{Result: "certificate-signature-strong", Status: StatusPass},
			{Result: "certificate-signature-sha1", Status: StatusFail, Impact: -20},
			{Result: "certificate-signature-md5", Status: StatusFail, Impact: -20},
		},
		decide: decideSignature,
	},
}

// decideReachable judges HGS-TLS-001: a handshake that worked passes; one
// the server turned down (a TLS alert, or no TLS at all on the port) fails,
// naming the versions or suites it accepts when browsers offer none of
// them; anything else (no such host, a refused port, a timeout) is not an
// answer about TLS, and the check says why it could not tell.
func decideReachable(o *observations) verdict {
	if o.https != nil && len(o.https.hops) == 0 {
		// The page's own handshake, the one a browser would make: when
		// the server turned it down, probes with older versions or
		// suites that did connect do not make the site reachable.
		switch cause := asError(o.https.err); {
		case cause == nil:
		case cause.Detail == "no_shared_cipher_suite":
			return decided("https-no-shared-cipher-suite", "No browser can connect: "+sentence(cause.Message), o.acceptedSuiteEvidence()...)
		case cause.Kind == KindTLS, cause.Kind == KindNotTLS:
			return decided("https-unreachable", "No TLS handshake as a browser makes it succeeds on the HTTPS port: "+sentence(cause.Message), cause.Message)
		}
	}
	st := o.tlsState()
	if st == nil {
		cause := o.handshakeError()
		if cause.Kind == KindTLS || cause.Kind == KindNotTLS {
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

// decideChain judges HGS-TLS-002: the verifier's verdict, and when it
// refuses the chain, the served certificates' account of why.
func decideChain(o *observations) verdict {
	if len(o.served()) == 0 {
		return errored("No certificate chain was seen.", o.chainError())
	}
	v := o.verification()
	if v.ok {
		return decided("certificate-chain-valid", fmt.Sprintf("The certificate chain is valid for %s, trusted by %s.", o.t.host, trustName(v.trustedBy)), "trusted by: "+v.trustedBy)
	}
	ev := []string{v.err, "roots tried: " + strings.Join(o.rootsTried, ", ")}
	var cf *ChainFacts
	if o.tls != nil {
		cf = o.tls.chain
	}
	if cf == nil {
		return decided("certificate-chain-invalid", sentence(fmt.Sprintf("The certificate chain does not verify for %s: %s", o.t.host, v.err)), ev...)
	}
	if !cf.NameMatch && cf.Status != chainComplete {
		ev = append(ev, "the certificate is not valid for "+o.t.host+" either")
	}
	switch cf.Status {
	case chainIncomplete:
		ev = append([]string{"missing: " + cf.MissingIssuer}, ev...)
		if cf.MissingIssuerURL != "" {
			return decided("certificate-chain-incomplete",
				fmt.Sprintf("The server does not send the intermediate certificate %s; the certificate below it names it at %s. Browsers that fetch it may connect; curl, Go, Python, Java and most API clients fail.", cf.MissingIssuer, cf.MissingIssuerURL), ev...)
		}
		return decided("certificate-chain-incomplete",
			fmt.Sprintf("The server does not send the intermediate certificate %s, and no trusted root has that name: either the intermediate is missing or the CA is not trusted here.", cf.MissingIssuer), ev...)
	case chainSelfSigned:
		return decided("certificate-self-signed", "The certificate is self-signed, and no trust store here holds it.", ev...)
	case chainUntrustedRoot:
		return decided("certificate-root-untrusted", "The chain ends at a root certificate that no trust store here holds.", ev...)
	}
	if !cf.NameMatch {
		msg := fmt.Sprintf("The certificate is not valid for %s: it covers %s", o.t.host, joinAnd(certNames(o.served()[0])))
		if cf.Expired || cf.NotYetValid {
			msg += "; its validity dates are wrong too (HGS-TLS-003)"
		}
		return decided("certificate-name-mismatch", msg+".", ev...)
	}
	// The chain is complete, trusted and names the host: what is left is
	// what the verifier refused, said in its own words in the evidence.
	var judged []string
	if len(cf.WeakSignatures) > 0 {
		judged = append(judged, "a SHA-1 or MD5 signature (HGS-TLS-008)")
	}
	if cf.Expired {
		judged = append(judged, "an expired certificate (HGS-TLS-003)")
	} else if cf.NotYetValid {
		judged = append(judged, "a certificate not valid yet (HGS-TLS-003)")
	}
	if len(judged) > 0 {
		msg := fmt.Sprintf("Browsers refuse the certificate chain of %s for %s; it is otherwise complete, trusted and valid for the host.", o.t.host, joinAnd(judged))
		switch {
		case len(cf.WeakSignatures) > 0:
			return decided("certificate-signature-rejected", msg, ev...)
		case cf.Expired:
			return decided("certificate-chain-expired", msg, ev...)
		}
		return decided("certificate-chain-invalid", msg, ev...)
	}
	return decided("certificate-chain-invalid", sentence(fmt.Sprintf("The certificate chain does not verify for %s: %s", o.t.host, v.err)), ev...)
}

// decideObsoleteVersions judges HGS-TLS-004 on every version below TLS 1.2.
func decideObsoleteVersions(o *observations) verdict {
	table, v, ok := o.versionTable()
	if !ok {
		return v
	}
	var ssl, old []string
	var unknown *versionFacts
	for i, vf := range table {
		switch {
		case vf.version >= tls.VersionTLS12:
		case vf.offered && vf.version < tls.VersionTLS10:
			ssl = append(ssl, versionName(vf.version))
		case vf.offered:
			old = append(old, versionName(vf.version))
		case vf.unknown != nil && unknown == nil:
			unknown = &table[i]
		}
	}
	ev := offeredEvidence(table)
	switch {
	case len(ssl) > 0:
		return decided("ssl-versions-accepted", "The server accepts "+joinAnd(append(ssl, old...))+": SSL is broken beyond repair (DROWN, POODLE).", ev)
	case len(old) > 0:
		return decided("tls-obsolete-versions-accepted", "The server accepts obsolete "+joinAnd(old)+".", ev)
	case unknown != nil:
		return errored("Whether the server accepts "+versionName(unknown.version)+" could not be told.", unknown.unknown)
	}
	return decided("tls-obsolete-versions-refused", "The server refuses SSL 2.0, SSL 3.0, TLS 1.0 and TLS 1.1.", ev)
}

// decideCipherSuites judges HGS-TLS-006 on every suite of every version.
func decideCipherSuites(o *observations) verdict {
	if _, v, ok := o.versionTable(); !ok {
		return v
	}
	suites, complete := o.tls.offeredSuites()
	var insecure, weak []string
	noFS := 0
	for _, vs := range suites {
		switch vs.suite.Strength() {
		case tlsprobe.Insecure:
			insecure = append(insecure, vs.String()+" ("+vs.suite.Flaw()+")")
			if !vs.suite.ForwardSecret() {
				noFS++
			}
		case tlsprobe.Weak:
			weak = append(weak, vs.String()+" ("+vs.suite.Flaw()+")")
		}
	}
	switch {
	case len(insecure) > 0:
		msg := fmt.Sprintf("The server accepts %d insecure cipher suite(s)", len(insecure))
		if noFS > 0 {
			msg += fmt.Sprintf(", %d of them without forward secrecy", noFS)
		}
		return decided("tls-ciphers-insecure", msg+".", append(insecure, weak...)...)
	case !complete:
		return errored("The cipher suites could not all be listed.", o.tls.suitesError())
	case len(suites) == 0:
		return errored("No cipher suite was seen accepted.", &Error{Kind: KindInternal, Message: "versions offered with no cipher suite listed", Fix: fixInternal})
	case len(weak) > 0:
		return decided("tls-ciphers-cbc", fmt.Sprintf("The server accepts %d cipher suite(s) without full authenticated encryption (CBC, or CCM with a short tag).", len(weak)), weak...)
	}
	return decided("tls-ciphers-strong", fmt.Sprintf("Every cipher suite the server accepts (%d) has forward secrecy and authenticated encryption.", len(suites)))
}

// certNames are the names a certificate covers: its DNS names and IP
// addresses, or its common name when it has neither.
func certNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = []string{c.Subject.CommonName + " (common name only, which browsers ignore)"}
	}
	if len(names) == 0 {
		names = []string{"no name"}
	}
	return names
}

// decideSignature judges HGS-TLS-008.
func decideSignature(o *observations) verdict {
	if len(o.served()) == 0 || o.tls == nil || o.tls.chain == nil {
		return errored("No certificate chain was seen.", o.chainError())
	}
	weak := o.tls.chain.WeakSignatures
	if len(weak) == 0 {
		return decided("certificate-signature-strong", "No certificate below the root is signed with SHA-1 or MD5.")
	}
	result, hash := "certificate-signature-sha1", "SHA-1"
	for _, w := range weak {
		if strings.Contains(w, ": MD") {
			result, hash = "certificate-signature-md5", "MD5"
		}
	}
	subject, alg, _ := strings.Cut(weak[0], ": ")
	msg := fmt.Sprintf("The certificate %s is signed with %s (%s), which browsers reject.", subject, hash, alg)
	if len(weak) > 1 {
		msg = fmt.Sprintf("%d certificates of the chain are signed with SHA-1 or MD5, %s among them (%s); browsers reject them.", len(weak), subject, alg)
	}
	return decided(result, msg, weak...)
}

// served is the certificate chain seen on the HTTPS port: the page's
// first handshake's, a version probe's, or, when no Go handshake
// completed (a server whose suites Go does not speak), the one the raw
// probes read.
func (o *observations) served() []*x509.Certificate {
	if st := o.tlsState(); st != nil {
		return st.PeerCertificates
	}
	if o.tls != nil {
		return o.tls.served
	}
	return nil
}

// chainError says why no certificate chain was seen.
func (o *observations) chainError() *Error {
	if st := o.tlsState(); st != nil && len(st.PeerCertificates) == 0 {
		return &Error{Kind: KindTLS, Detail: "no_certificate",
			Message: "the server completed the handshake without a certificate", Fix: tlsFix("")}
	}
	return o.handshakeError()
}

// leaf returns the leaf certificate served on the HTTPS port; when there
// is none, v is the verdict for a check that needs one.
func (o *observations) leaf() (leaf *x509.Certificate, v verdict, ok bool) {
	served := o.served()
	if len(served) == 0 {
		return nil, errored("No certificate was seen.", o.chainError()), false
	}
	return served[0], verdict{}, true
}

// versionTable returns what is known of every protocol version, SSL 2.0 to
// TLS 1.3; v is the verdict of a check that needs it when it is missing or
// when the server accepted no version at all (there is nothing to judge:
// HGS-TLS-001 says why).
func (o *observations) versionTable() (table []versionFacts, v verdict, ok bool) {
	if o.tls == nil || len(o.tls.table) == 0 {
		cause := o.deadline
		if cause == nil {
			cause = &Error{Kind: KindInternal, Message: "the protocol probes did not run", Fix: fixInternal}
		}
		return nil, errored("The protocol probes did not run.", cause), false
	}
	for _, vf := range o.tls.table {
		if vf.offered {
			return o.tls.table, verdict{}, true
		}
	}
	return nil, errored("The server accepted no protocol version.", o.handshakeError()), false
}

// suitesError is why the suite lists are incomplete: the first version
// not decided, or the first list cut short.
func (p *tlsProbe) suitesError() *Error {
	for _, vf := range p.table {
		if vf.unknown != nil {
			return vf.unknown
		}
		if vf.suitesErr != nil {
			return vf.suitesErr
		}
	}
	return &Error{Kind: KindInternal, Message: "the cipher suite lists are incomplete for no recorded reason", Fix: fixInternal}
}

// offeredEvidence lists the versions accepted.
func offeredEvidence(table []versionFacts) string {
	var names []string
	for _, vf := range table {
		if vf.offered {
			names = append(names, versionName(vf.version))
		}
	}
	return "accepted: " + strings.Join(names, ", ")
}

// acceptedSuiteEvidence lists every suite accepted, with its version.
func (o *observations) acceptedSuiteEvidence() []string {
	if o.tls == nil {
		return nil
	}
	suites, _ := o.tls.offeredSuites()
	out := make([]string, len(suites))
	for i, vs := range suites {
		out[i] = vs.String()
	}
	return out
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

// fixRenew is the fix for an expired certificate, or one about to expire.
const fixRenew = "Renew the certificate, and automate renewal (ACME) so it is replaced a month before it expires."

// evidenceTime is how certificate dates appear in evidence.
const evidenceTime = "2006-01-02 15:04 MST"

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
