package scan

import (
	"fmt"
	"strings"
)

// tlsVerdict is what one TLS decision concludes from the TLS facts. The
// decide functions below are plain functions of the facts (TLSInfo's
// Protocols, ForwardSecrecy and ChainFacts), each ready to be the
// deciding function of one declared check; the check supplies ID, title,
// category, impact and fix.
type tlsVerdict struct {
	Status   Status
	Result   string
	Message  string
	Evidence []string
}

func tlsVerdictOf(s Status, result, msg string, evidence ...string) tlsVerdict {
	return tlsVerdict{Status: s, Result: result, Message: msg, Evidence: evidence}
}

// noChain is the verdict of a certificate decision without a certificate.
var noChain = tlsVerdictOf(StatusError, "", "The server sent no certificate that could be judged.")

// decideChainComplete judges whether the server sends the whole chain. A
// missing intermediate is named as such, with where the leaf says it can
// be fetched; clients that do not fetch it (curl, Go, Python, Java, most
// API clients) fail where a browser that does may succeed.
func decideChainComplete(cf *ChainFacts) tlsVerdict {
	if cf == nil {
		return noChain
	}
	switch cf.Status {
	case chainComplete:
		return tlsVerdictOf(StatusPass, "certificate-chain-complete",
			"The server sends every certificate up to a trusted root.", "trusted by: "+cf.Anchor)
	case chainIncomplete:
		ev := []string{"missing: " + cf.MissingIssuer}
		if cf.MissingIssuerURL != "" {
			ev = append(ev, "the certificate before it names its issuer at "+cf.MissingIssuerURL)
			return tlsVerdictOf(StatusFail, "certificate-chain-incomplete",
				fmt.Sprintf("The server does not send the intermediate certificate %s.", cf.MissingIssuer), ev...)
		}
		return tlsVerdictOf(StatusFail, "certificate-chain-incomplete",
			fmt.Sprintf("The server does not send the intermediate certificate %s, and no trusted root has that name (or the CA is not trusted at all).", cf.MissingIssuer), ev...)
	case chainSelfSigned:
		return tlsVerdictOf(StatusFail, "certificate-self-signed", "The certificate is self-signed, and no trust store here holds it.")
	case chainUntrustedRoot:
		return tlsVerdictOf(StatusFail, "certificate-root-untrusted", "The chain ends at a root certificate that no trust store here holds.")
	}
	return tlsVerdictOf(StatusError, "", "The chain could not be judged: status "+cf.Status+".")
}

// decideSignature fails a chain in which the leaf or an intermediate is
// signed with SHA-1 (or MD5): browsers have rejected those since 2017, and
// a collision for SHA-1 is within reach of a well-funded attacker.
func decideSignature(cf *ChainFacts) tlsVerdict {
	if cf == nil {
		return noChain
	}
	if len(cf.WeakSignatures) == 0 {
		return tlsVerdictOf(StatusPass, "certificate-signature-strong", "No certificate of the chain is signed with SHA-1 or MD5.")
	}
	subject, alg, _ := strings.Cut(cf.WeakSignatures[0], ": ")
	hash := "SHA-1"
	if strings.HasPrefix(alg, "MD") {
		hash = "MD5"
	}
	msg := fmt.Sprintf("The certificate %s is signed with %s (%s), which browsers reject.", subject, hash, alg)
	if n := len(cf.WeakSignatures); n > 1 {
		msg = fmt.Sprintf("%d certificates of the chain are signed with %s or MD5, %s among them (%s); browsers reject them.", n, "SHA-1", subject, alg)
	}
	return tlsVerdictOf(StatusFail, "certificate-signature-sha1", msg, cf.WeakSignatures...)
}

// decideNameMatch judges whether the leaf is valid for the host scanned.
func decideNameMatch(cf *ChainFacts, host string) tlsVerdict {
	if cf == nil {
		return noChain
	}
	if cf.NameMatch {
		return tlsVerdictOf(StatusPass, "certificate-name-match", fmt.Sprintf("The certificate is valid for %s.", host))
	}
	return tlsVerdictOf(StatusFail, "certificate-name-mismatch", fmt.Sprintf("The certificate is not valid for %s.", host))
}

// isObsolete reports whether a version name is one browsers refuse.
func isObsolete(version string) bool {
	switch version {
	case "SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1":
		return true
	}
	return false
}

// decideObsoleteVersions fails a server that offers SSL 2.0, SSL 3.0, TLS
// 1.0 or 1.1. A version the probes could not decide is an error unless an
// offered one already fails the check.
func decideObsoleteVersions(ps []ProtocolSupport) tlsVerdict {
	if len(ps) == 0 {
		return tlsVerdictOf(StatusError, "", "The protocol versions were not probed.")
	}
	var offered, unknown, all []string
	for _, p := range ps {
		switch {
		case p.Error != "" && isObsolete(p.Version):
			unknown = append(unknown, p.Version+": "+p.Error)
		case p.Offered && isObsolete(p.Version):
			offered = append(offered, p.Version)
		}
		if p.Offered {
			all = append(all, p.Version)
		}
	}
	ev := "offered: " + strings.Join(all, ", ")
	switch {
	case len(offered) > 0:
		return tlsVerdictOf(StatusFail, "tls-obsolete-versions-accepted",
			"The server accepts obsolete "+joinAnd(offered)+".", ev)
	case len(unknown) > 0:
		return tlsVerdictOf(StatusError, "", "Whether the server accepts obsolete versions could not be told.", unknown...)
	}
	return tlsVerdictOf(StatusPass, "tls-obsolete-versions-refused", "The server refuses SSL 2.0 and 3.0 and TLS 1.0 and 1.1.", ev)
}

// decideCipherSuites judges every suite accepted on every version: an
// insecure one fails, a weak one (CBC) warns. Lists the probes could not
// finish are an error when nothing found already decides.
func decideCipherSuites(ps []ProtocolSupport) tlsVerdict {
	if len(ps) == 0 {
		return tlsVerdictOf(StatusError, "", "The cipher suites were not probed.")
	}
	var insecure, weak, unknown []string
	any := false
	for _, p := range ps {
		if p.Error != "" {
			unknown = append(unknown, p.Version+": "+p.Error)
		}
		if p.Incomplete != "" {
			unknown = append(unknown, p.Version+" cipher suites: "+p.Incomplete)
		}
		for _, s := range p.CipherSuites {
			any = true
			switch s.Strength {
			case "insecure":
				insecure = append(insecure, p.Version+": "+s.Name)
			case "weak":
				weak = append(weak, p.Version+": "+s.Name)
			}
		}
	}
	switch {
	case len(insecure) > 0:
		return tlsVerdictOf(StatusFail, "tls-ciphers-insecure",
			fmt.Sprintf("The server accepts %d insecure cipher suite(s): without forward secrecy, with a 64-bit block cipher, RC4, NULL or export-grade.", len(insecure)),
			append(insecure, weak...)...)
	case len(unknown) > 0:
		return tlsVerdictOf(StatusError, "", "The cipher suites could not all be listed.", unknown...)
	case len(weak) > 0:
		return tlsVerdictOf(StatusWarn, "tls-ciphers-cbc",
			fmt.Sprintf("The server accepts %d cipher suite(s) without authenticated encryption (CBC).", len(weak)), weak...)
	case !any:
		return tlsVerdictOf(StatusError, "", "The server accepted no cipher suite on any version.")
	}
	return tlsVerdictOf(StatusPass, "tls-ciphers-strong", "Every cipher suite the server accepts has forward secrecy and authenticated encryption.")
}

// decideForwardSecrecy judges forward secrecy over every accepted suite:
// none fails, some warns (a client may still land on a suite without it).
func decideForwardSecrecy(fs string, ps []ProtocolSupport) tlsVerdict {
	var without []string
	for _, p := range ps {
		for _, s := range p.CipherSuites {
			if !s.ForwardSecrecy {
				without = append(without, p.Version+": "+s.Name)
			}
		}
	}
	switch fs {
	case "all":
		return tlsVerdictOf(StatusPass, "forward-secrecy-all", "Every cipher suite the server accepts has forward secrecy.")
	case "some":
		return tlsVerdictOf(StatusWarn, "forward-secrecy-some",
			fmt.Sprintf("The server accepts %d cipher suite(s) without forward secrecy: a recorded session can be decrypted once its key leaks.", len(without)), without...)
	case "none":
		return tlsVerdictOf(StatusFail, "forward-secrecy-none", "No cipher suite the server accepts has forward secrecy.", without...)
	}
	return tlsVerdictOf(StatusError, "", "Forward secrecy could not be judged: the cipher suites could not all be listed.")
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
