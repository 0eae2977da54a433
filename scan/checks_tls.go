package scan

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

func checkTLS(o *observations) []*Check {
	reach := newCheck("HGS-TLS-001")
	chainC := newCheck("HGS-TLS-002")
	expiry := newCheck("HGS-TLS-003")
	old := newCheck("HGS-TLS-004")
	v13 := newCheck("HGS-TLS-005")
	weak := newCheck("HGS-TLS-006")
	key := newCheck("HGS-TLS-007")
	all := []*Check{reach, chainC, expiry, old, v13, weak, key}

	st := o.tlsState()
	if st == nil {
		why := "no TLS version could be negotiated"
		var err error
		switch {
		case o.tls != nil && o.tls.unreachable != nil:
			why, err = "nothing accepted a connection on the HTTPS port", o.tls.unreachable
		case o.https != nil && o.https.err != nil:
			err = o.https.err
		case o.tls != nil:
			err = o.tls.versions[tls.VersionTLS12]
		}
		reach.Result = "https-unreachable"
		reach.fail(100, "HTTPS is not reachable: "+why+".")
		if err != nil {
			reach.Evidence = append(reach.Evidence, err.Error())
		}
		if o.tls != nil {
			for _, v := range slices.Backward(tlsVersions) {
				if e := o.tls.versions[v]; e != nil && (err == nil || e.Error() != err.Error()) {
					reach.Evidence = append(reach.Evidence, versionName(v)+": "+e.Error())
					break
				}
			}
		}
		for _, c := range all[1:] {
			c.skip("HTTPS is not reachable.")
		}
		return all
	}
	ev := []string{fmt.Sprintf("%s, %s", versionName(st.Version), tls.CipherSuiteName(st.CipherSuite))}
	if o.https != nil && o.https.final == nil && o.https.err != nil {
		reach.Result = "https-handshake-only"
		reach.pass("TLS handshakes succeed, but no HTTP response came back over HTTPS.", append(ev, o.https.err.Error())...)
	} else {
		reach.Result = "https-reachable"
		reach.pass("HTTPS answers.", ev...)
	}

	v := o.verification()
	if v.ok {
		chainC.Result = "certificate-chain-valid"
		chainC.pass(fmt.Sprintf("The certificate chain is valid for %s, trusted by %s.", o.t.host, trustName(v.trustedBy)), "trusted by: "+v.trustedBy)
	} else {
		chainC.Result = "certificate-chain-invalid"
		chainC.fail(40, sentence(fmt.Sprintf("The certificate chain does not verify for %s: %s", o.t.host, v.err)),
			v.err, "roots tried: "+strings.Join(o.rootsTried, ", "))
	}

	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		days := daysLeft(leaf.NotAfter, o.now)
		ev := fmt.Sprintf("not after %s (%d days left)", leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), days)
		warnAt, failAt := expiryThresholds(leaf)
		left := leaf.NotAfter.Sub(o.now)
		switch {
		case o.now.Before(leaf.NotBefore):
			expiry.Result = "certificate-not-yet-valid"
			expiry.fail(40, "The certificate is not valid yet.", "not before "+leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
		case left < 0:
			expiry.Result = "certificate-expired"
			expiry.fail(40, fmt.Sprintf("The certificate expired %d days ago.", -days), ev)
		case left < failAt:
			expiry.Result = "certificate-expires-within-7-days"
			expiry.fail(30, fmt.Sprintf("The certificate expires in %s.", humanLeft(left)), ev)
		case left < warnAt:
			expiry.Result = "certificate-expires-within-30-days"
			expiry.warn(5, fmt.Sprintf("The certificate expires in %s.", humanLeft(left)), ev)
		default:
			expiry.Result = "certificate-valid"
			if warnAt < 30*24*time.Hour {
				expiry.pass(fmt.Sprintf("The short-lived certificate (%s in all) has %s left; renewal is evidently automated.", humanLeft(leaf.NotAfter.Sub(leaf.NotBefore)), humanLeft(left)), ev)
			} else {
				expiry.pass(fmt.Sprintf("The certificate is valid for %d more days.", days), ev)
			}
		}
		kt, bits := keyInfo(leaf)
		kev := fmt.Sprintf("%s %d bits", kt, bits)
		switch {
		case kt == "RSA" && bits < 2048:
			key.Result = "certificate-key-rsa-weak"
			key.fail(20, fmt.Sprintf("The certificate has a weak %d-bit RSA key.", bits), kev)
		case kt == "ECDSA" && bits < 256:
			key.Result = "certificate-key-ec-weak"
			key.fail(20, fmt.Sprintf("The certificate has a weak %d-bit elliptic-curve key.", bits), kev)
		case kt == "RSA" || kt == "ECDSA" || kt == "Ed25519":
			key.Result = "certificate-key-strong"
			key.pass("The certificate key is strong: "+kev+".", kev)
		default:
			key.Result = "certificate-key-unusual"
			key.warn(5, "The certificate key type is unusual: "+kev+".", kev)
		}
	} else {
		expiry.errored("The server sent no certificate.", nil)
		key.errored("The server sent no certificate.", nil)
	}

	if o.tls == nil || len(o.tls.versions) == 0 {
		for _, c := range []*Check{old, v13, weak} {
			c.errored("The protocol probes did not run.", o.deadline)
		}
		return all
	}
	var accepted, oldOnes []string
	for _, ver := range tlsVersions {
		if o.tls.versions[ver] == nil {
			accepted = append(accepted, versionName(ver))
			if ver < tls.VersionTLS12 {
				oldOnes = append(oldOnes, versionName(ver))
			}
		}
	}
	vev := "accepted: " + strings.Join(accepted, ", ")
	if len(oldOnes) > 0 {
		old.Result = "tls-obsolete-versions-accepted"
		old.fail(15, "The server accepts obsolete "+strings.Join(oldOnes, " and ")+".", vev)
	} else {
		old.Result = "tls-obsolete-versions-refused"
		old.pass("The server refuses TLS 1.0 and 1.1.", vev)
	}
	if o.tls.versions[tls.VersionTLS13] == nil {
		v13.Result = "tls13-supported"
		v13.pass("The server accepts TLS 1.3.", vev)
	} else {
		v13.Result = "tls13-not-supported"
		v13.warn(2, "The server does not accept TLS 1.3.", vev, o.tls.versions[tls.VersionTLS13].Error())
	}
	switch {
	case o.tls.versions[tls.VersionTLS12] != nil:
		weak.skip("The server does not accept TLS 1.2, so it has no TLS 1.2 cipher suites.")
	case o.tls.weakErr != nil && len(o.tls.weak) == 0:
		weak.errored("The cipher suite probes did not complete.", o.tls.weakErr)
	case len(o.tls.weak) == 0:
		weak.Result = "tls12-ciphers-strong"
		weak.pass("The server accepts only forward-secret AEAD cipher suites for TLS 1.2.")
	default:
		var names []string
		insecure := false
		for _, id := range o.tls.weak {
			names = append(names, tls.CipherSuiteName(id))
			insecure = insecure || insecureSuite(id)
		}
		msg := fmt.Sprintf("The server accepts %d weak TLS 1.2 cipher suite(s).", len(names))
		if insecure {
			weak.Result = "tls12-ciphers-insecure"
			weak.fail(10, msg, names...)
		} else {
			weak.Result = "tls12-ciphers-cbc"
			weak.warn(5, msg, names...)
		}
	}
	return all
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
