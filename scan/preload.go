package scan

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// The rules below are chromium's hstspreload (github.com/chromium/hstspreload:
// domain.go, header.go, redirects.go, response.go, tls.go), implemented
// anew from reading its source, because that module is not available
// through the module proxy here. Issue codes are the same; the judgement
// runs on the responses httpsguard already fetched instead of new requests.

// preloadMaxRedirects is hstspreload's limit on the redirects from the
// root of the domain.
const preloadMaxRedirects = 3

// allowedWWWeTLDs waive the www requirement, as hstspreload does.
var allowedWWWeTLDs = map[string]bool{"appspot.com": true}

// checkDomainFormat reports hstspreload's domain.format.* errors.
func checkDomainFormat(domain string) Issues {
	var is Issues
	switch {
	case strings.HasPrefix(domain, "."):
		is.errorf("domain.format.begins_with_dot", "Invalid domain name", "Please provide a domain that does not begin with `.`")
	case strings.HasSuffix(domain, "."):
		is.errorf("domain.format.ends_with_dot", "Invalid domain name", "Please provide a domain that does not end with `.`")
	case strings.Contains(domain, ".."):
		is.errorf("domain.format.contains_double_dot", "Invalid domain name", "Please provide a domain that does not contain `..`")
	}
	if len(is.Errors) > 0 {
		return is
	}
	// hstspreload tests for an IP address last; testing it first gives the
	// clearer message for an IP literal, which the public-suffix test
	// would otherwise catch.
	if net.ParseIP(domain) != nil {
		is.errorf("domain.format.is_ip_address", "Invalid domain name", "Please provide a domain, not an IP address")
		return is
	}
	if ps, _ := publicsuffix.PublicSuffix(domain); ps == domain {
		is.errorf("domain.format.public_suffix", "Domain is a TLD or public suffix", "`%s` is a public suffix, which cannot be preloaded through hstspreload.org.", domain)
		return is
	}
	for _, r := range strings.ToLower(domain) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			is.errorf("domain.format.invalid_characters", "Invalid domain name", "Please provide a domain using valid characters (letters, numbers, dashes, dots).")
			return is
		}
	}
	return is
}

// preloadableDomainLevel reports domain.is_subdomain.
func preloadableDomainLevel(domain string) Issues {
	var is Issues
	etld1, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		is.errorf("internal.domain.name.cannot_compute_etld1", "Internal Error", "Could not compute eTLD+1.")
		return is
	}
	if etld1 != domain {
		is.errorf("domain.is_subdomain", "Subdomain", "`%s` is a subdomain. Please preload `%s` instead.", domain, etld1)
	}
	return is
}

// redirectTargets are the URLs a chain was redirected to, in order (the
// starting URL excluded), as hstspreload's redirect recorder sees them.
func redirectTargets(c *chain) []*url.URL {
	var out []*url.URL
	for _, h := range c.hops[min(1, len(c.hops)):] {
		out = append(out, h.url)
	}
	if c.next != "" && len(c.hops) > 0 {
		if u, err := url.Parse(c.next); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// redirectChainIssues checks that every redirect target is HTTPS, and the
// redirect count.
func redirectChainIssues(initial string, c *chain) Issues {
	var is Issues
	targets := redirectTargets(c)
	if len(targets) > preloadMaxRedirects {
		is.errorf("redirects.too_many", "Too many redirects", "There are more than %d redirects starting from `%s`.", preloadMaxRedirects, initial)
	} else if c.failed && c.err != nil && len(c.hops) > 0 {
		is.errorf("redirects.follow_error", "Error following redirects", "Redirect error: %s", c.err)
	}
	for i, u := range targets {
		if u.Scheme != "https" {
			if i == 0 {
				is.errorf("redirects.insecure.initial", "Insecure redirect", "`%s` redirects to an insecure page: `%s`", initial, u)
			} else {
				is.errorf("redirects.insecure.subsequent", "Insecure redirect", "`%s` redirects to an insecure page on redirect #%d: `%s`", initial, i+1, u)
			}
			break
		}
	}
	return is
}

// preloadIssues judges the whole site with hstspreload's rules
// (PreloadableDomain with the "bulk-1-year" policy).
func (o *observations) preloadIssues() Issues {
	domain := o.t.host
	var is Issues
	is.add(checkDomainFormat(domain))
	if len(is.Errors) > 0 {
		return is
	}
	level := preloadableDomainLevel(domain)
	is.add(level)

	if o.https == nil || len(o.https.hops) == 0 {
		is.errorf("domain.tls.cannot_connect", "Cannot connect using TLS", "We cannot connect to https://%s using TLS.", domain)
		return is
	}
	first := o.https.hops[0]
	if first.tls != nil && !first.verified {
		is.errorf("domain.tls.invalid_cert_chain", "Invalid Certificate Chain", "https://%s uses an incomplete or invalid certificate chain (%s).", domain, first.verifyErr)
	}
	if first.tls != nil {
		for _, c := range first.tls.PeerCertificates {
			if c.SignatureAlgorithm.String() == "SHA1-RSA" || c.SignatureAlgorithm.String() == "ECDSA-SHA1" {
				is.errorf("domain.tls.sha1", "SHA-1 Certificate", "A certificate in the chain is signed using SHA-1 (common name %q).", c.Subject.CommonName)
				break
			}
		}
		// TLS 1.3 suites are all modern; hstspreload predates them.
		if first.tls.Version < tls.VersionTLS13 && !isModernSuite(first.tls.CipherSuite) {
			is.warnf("tls.obsolete_cipher_suite", "Obsolete Cipher Suite", "The site is using obsolete TLS settings (%s).", tls.CipherSuiteName(first.tls.CipherSuite))
		}
	}
	respIssues := preloadableResponse(first.header.Values("Strict-Transport-Security"))
	is.add(respIssues)

	// Redirects from http://domain.
	hc := o.http
	initial := "http://" + o.t.hostPort(o.t.httpPort, 80)
	switch {
	case hc == nil || len(hc.hops) == 0:
		is.warnf("redirects.http.does_not_exist", "Unavailable over HTTP", "The site appears to be unavailable over plain HTTP (%s).", initial)
	default:
		if len(hc.hops[0].header.Values("Strict-Transport-Security")) > 0 {
			is.warnf("redirects.http.useless_header", "Unnecessary HSTS header over HTTP", "The HTTP page at %s sends an HSTS header. This has no effect over HTTP, and should be removed.", initial)
		}
		targets := redirectTargets(hc)
		general := redirectChainIssues(initial, hc)
		switch {
		case len(targets) == 0:
			is.add(keepOnly(general, "redirects.too_many", "redirects.follow_error"))
			is.errorf("redirects.http.no_redirect", "No redirect from HTTP", "`%s` does not redirect to `https://%s`.", initial, domain)
		case targets[0].Scheme == "https" && strings.EqualFold(targets[0].Hostname(), domain):
			is.add(general)
			if len(respIssues.Errors) == 0 && len(hc.hops) > 1 {
				if ri := preloadableResponse(hc.hops[1].header.Values("Strict-Transport-Security")); len(ri.Errors) > 0 {
					is.errorf("redirects.http.first_redirect.no_hsts", "HTTP redirects to a page without HSTS",
						"`%s` redirects to `%s`, which does not serve a HSTS header that satisfies preload conditions. First error: %s", initial, targets[0], ri.Errors[0].Summary)
				}
			}
		case strings.EqualFold(targets[0].Hostname(), "www."+domain):
			is.add(keepOnly(general, "redirects.too_many", "redirects.follow_error"))
			is.errorf("redirects.http.www_first", "HTTP redirects to www first", "`%s` (HTTP) should immediately redirect to `https://%s` (HTTPS) before adding the www subdomain. Right now, the first redirect is to `%s`.", initial, domain, targets[0])
		default:
			is.add(keepOnly(general, "redirects.too_many", "redirects.follow_error"))
			is.errorf("redirects.http.first_redirect.insecure", "HTTP does not redirect to HTTPS", "`%s` (HTTP) redirects to `%s`. The first redirect from `%s` should be to a secure page on the same host (`https://%s`).", initial, targets[0], initial, domain)
		}
	}
	// Redirects from https://domain.
	is.add(redirectChainIssues("https://"+o.t.hostPort(o.t.httpsPort, 443), o.https))

	if o.wwwErr != nil {
		is.errorf("domain.www.no_tls", "www subdomain does not support HTTPS", "The www subdomain exists, but we couldn't connect to it using HTTPS (%q).", o.wwwErr.Error())
	}
	return is
}

func keepOnly(is Issues, codes ...string) Issues {
	var out Issues
	for _, e := range is.Errors {
		for _, c := range codes {
			if e.Code == c {
				out.Errors = append(out.Errors, e)
			}
		}
	}
	return out
}

func isModernSuite(id uint16) bool {
	for _, m := range modernSuites {
		if m == id {
			return true
		}
	}
	return false
}

// wantWWWCheck reports whether the www subdomain should be probed: only
// for a registrable domain whose header asks for preloading (otherwise the
// verdict is "not eligible" already, and the probe would cost a DNS
// lookup per target).
func (o *observations) wantWWWCheck() bool {
	if o.https == nil || len(o.https.hops) == 0 || isIPHost(o.t.host) {
		return false
	}
	h, _ := ParseHSTS(o.https.hops[0].header.Get("Strict-Transport-Security"))
	if !h.Preload {
		return false
	}
	if len(preloadableDomainLevel(o.t.host).Errors) > 0 {
		return false
	}
	etld, _ := publicsuffix.PublicSuffix(o.t.host)
	return !allowedWWWeTLDs[etld]
}

// checkWWW connects to www.domain on the HTTPS port; when something listens
// there, a verified TLS handshake must succeed (hstspreload's checkWWW).
func (f *fetcher) checkWWW(ctx context.Context, t target) error {
	host := "www." + t.host
	addr := net.JoinHostPort(host, strconv.Itoa(t.httpsPort))
	dctx, cancel := context.WithTimeout(ctx, f.opts.ConnectTimeout)
	conn, err := f.dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil // no www: nothing to check
	}
	conn.Close()
	cs, err := f.handshake(ctx, addr, host, &tls.Config{})
	if err != nil {
		return err
	}
	if v := verifyChain(f.anchors, host, cs.PeerCertificates, f.opts.now()); !v.ok {
		return fmt.Errorf("certificate for %s: %s", host, v.err)
	}
	return nil
}
