package report

import (
	"slices"
	"time"

	"github.com/httpsguard/httpsguard/scan"
)

// The fixtures are hand-built results: golden files must not change when
// the scanner's wording does, and they must cover every status, both
// redirect chains, a certificate chain and a target that failed outright.

var fixtureStart = time.Date(2026, 11, 25, 17, 2, 13, 0, time.UTC)

const mdn = "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/"

// Cipher suites as the scanner describes them.
var (
	aes128   = scan.CipherSuite{ID: "0x1301", Name: "TLS_AES_128_GCM_SHA256", KeyExchange: "any", Encryption: "AES-128-GCM", ForwardSecrecy: true, Strength: "strong"}
	chacha   = scan.CipherSuite{ID: "0x1303", Name: "TLS_CHACHA20_POLY1305_SHA256", KeyExchange: "any", Encryption: "CHACHA20-256-POLY1305", ForwardSecrecy: true, Strength: "strong"}
	ecdsaGCM = scan.CipherSuite{ID: "0xc02b", Name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KeyExchange: "ECDHE", Encryption: "AES-128-GCM", ForwardSecrecy: true, Strength: "strong"}
	ecdsaCBC = scan.CipherSuite{ID: "0xc009", Name: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", KeyExchange: "ECDHE", Encryption: "AES-128-CBC", ForwardSecrecy: true, Strength: "weak"}
	rsaGCM   = scan.CipherSuite{ID: "0x009c", Name: "TLS_RSA_WITH_AES_128_GCM_SHA256", KeyExchange: "RSA", Encryption: "AES-128-GCM", Strength: "insecure"}
)

// fullResult is a middling site: every status appears, several checks fail
// or warn, and the TLS section is complete.
func fullResult() *scan.Result {
	return &scan.Result{
		SchemaVersion: 2,
		Tool:          scan.Tool{Name: "httpsguard", Version: "v1.2.3"},
		Target:        "shop.example.com",
		Host:          "shop.example.com",
		URL:           "https://shop.example.com/",
		StartedAt:     fixtureStart,
		DurationMS:    1240,
		Scoring:       "httpsguard",
		Score:         62,
		Grade:         "C+",
		Incomplete:    true,
		Checks: []scan.Check{
			{ID: "HGS-TLS-001", Title: "HTTPS reachable", Category: "tls", Status: scan.StatusPass,
				Message: "TLS 1.3 handshake succeeded on port 443."},
			{ID: "HGS-TLS-002", Title: "Certificate chain valid for the host", Category: "tls", Status: scan.StatusPass,
				Message: "The chain verifies for shop.example.com.", Evidence: []string{"trusted by system roots"}},
			{ID: "HGS-TLS-003", Title: "Certificate expiry", Category: "tls", Status: scan.StatusWarn, ScoreImpact: -5,
				Result: "certificate-expires-soon", Message: "The certificate expires in 12 days.",
				Evidence: []string{"not after 2026-12-07T12:00:00Z"},
				Fix:      "Renew the certificate, and automate renewal (ACME) so it is replaced a month before it expires."},
			{ID: "HGS-TLS-004", Title: "No obsolete protocol versions", Category: "tls", Status: scan.StatusFail, ScoreImpact: -10,
				Result: "tls-obsolete-versions", Message: "The server accepts TLS 1.0 and TLS 1.1.",
				Evidence: []string{"TLS 1.0 accepted", "TLS 1.1 accepted"},
				Fix:      "Set the server's minimum protocol version to TLS 1.2.",
				Refs:     []string{"https://www.rfc-editor.org/rfc/rfc8996"}},
			{ID: "HGS-TLS-006", Title: "No weak TLS 1.2 cipher suites", Category: "tls", Status: scan.StatusError,
				Message: "The cipher suite probes did not complete.", Error: &scan.Error{Kind: scan.KindTimeout, Detail: "handshake",
					Message: "127.0.0.1:443: no completed TLS handshake within 5s",
					Fix:     "The server accepts connections but does not finish the TLS handshake: check its TLS configuration, and whether it is overloaded."}},
			{ID: "HGS-RED-001", Title: "HTTP redirects to HTTPS", Category: "redirects", Status: scan.StatusPass,
				Result: "redirection-to-https", Message: "http://shop.example.com/ redirects to https://shop.example.com/."},
			{ID: "HGS-RED-005", Title: "Permanent redirect to HTTPS", Category: "redirects", Status: scan.StatusWarn, ScoreImpact: -2,
				Message: "The redirect to HTTPS uses 302 Found.", Evidence: []string{"302 http://shop.example.com/ -> https://shop.example.com/"},
				Fix: "Use 301 (or 308 to keep the method) for the redirect to HTTPS."},
			{ID: "HGS-HSTS-001", Title: "HSTS header present", Category: "hsts", Status: scan.StatusPass,
				Result: "hsts-implemented-max-age-less-than-six-months", Message: "Strict-Transport-Security is sent.",
				Evidence: []string{"max-age=300"}},
			{ID: "HGS-HSTS-003", Title: "HSTS max-age at least six months", Category: "hsts", Status: scan.StatusFail, ScoreImpact: -20,
				Result: "hsts-implemented-max-age-less-than-six-months", Message: "max-age is 300 seconds, under six months.",
				Evidence: []string{"Strict-Transport-Security: max-age=300"},
				Fix:      "Raise max-age to at least one year (31536000); two years (63072000) is usual.",
				Refs:     []string{mdn + "TLS#http_strict_transport_security_implementation"}},
			{ID: "HGS-HSTS-005", Title: "HSTS preload directive", Category: "hsts", Status: scan.StatusInfo,
				Message: "The header has no preload directive."},
			{ID: "HGS-COOK-001", Title: "Cookies set with Secure", Category: "cookies", Status: scan.StatusFail, ScoreImpact: -20,
				Result: "cookies-session-without-secure-flag", Message: "The session cookie is set without Secure.",
				Evidence: []string{"sessionid=…; HttpOnly; Path=/; SameSite=Lax"},
				Fix:      "Set the Secure attribute on every cookie (Django: SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE).",
				Refs:     []string{mdn + "Cookies"}},
			{ID: "HGS-COOK-004", Title: "Cookie prefixes used correctly", Category: "cookies", Status: scan.StatusSkip,
				Message: "No cookie uses a __Host- or __Secure- prefix."},
			{ID: "HGS-HDR-001", Title: "Content-Security-Policy", Category: "headers", Status: scan.StatusFail, ScoreImpact: -25,
				Result: "csp-not-implemented", Message: "No Content-Security-Policy header or <meta> policy.",
				Fix:  "Send a Content-Security-Policy with default-src 'none' or 'self', no 'unsafe-inline' or 'unsafe-eval' in script-src, object-src 'none', frame-ancestors and base-uri.",
				Refs: []string{mdn + "CSP"}},
			{ID: "HGS-HDR-002", Title: "Framing protection", Category: "headers", Status: scan.StatusPass,
				Result: "x-frame-options-sameorigin-or-deny", Message: "X-Frame-Options is DENY.", Evidence: []string{"X-Frame-Options: DENY"}},
			{ID: "HGS-HDR-003", Title: "X-Content-Type-Options", Category: "headers", Status: scan.StatusPass,
				Result: "x-content-type-options-nosniff", Message: "nosniff is set."},
			{ID: "HGS-HDR-004", Title: "Referrer-Policy", Category: "headers", Status: scan.StatusPass, ScoreImpact: 5,
				Result: "referrer-policy-private", Message: "Referrer-Policy is same-origin.", Evidence: []string{"Referrer-Policy: same-origin"}},
			{ID: "HGS-HDR-005", Title: "Cross-Origin-Opener-Policy", Category: "headers", Status: scan.StatusWarn, ScoreImpact: -5,
				Message: "No Cross-Origin-Opener-Policy header.",
				Fix:     "Send Cross-Origin-Opener-Policy: same-origin (same-origin-allow-popups if you rely on OAuth pop-ups)."},
			{ID: "HGS-CNT-001", Title: "No mixed content", Category: "content", Status: scan.StatusWarn, ScoreImpact: -5,
				Message: "The page loads 2 images over http://.",
				Evidence: []string{"<img src=\"http://cdn.example.net/logo.png\">", "<img src=\"http://cdn.example.net/banner.jpg\">",
					"<img src=\"http://cdn.example.net/a.jpg\">", "<img src=\"http://cdn.example.net/b.jpg\">"},
				Fix: "Load every subresource over https:// (or add CSP upgrade-insecure-requests while fixing the links)."},
			{ID: "HGS-LEAK-001", Title: "No debug error page", Category: "leaks", Status: scan.StatusFail, ScoreImpact: -25,
				Message:  "A request for a missing page shows Django's technical 404 page.",
				Evidence: []string{"GET /httpsguard-404-check\nYou're seeing this error because you have <code>DEBUG = True</code> in\nyour Django settings file."},
				Fix:      "Turn off debug mode in production (Django: DEBUG = False)."},
			{ID: "HGS-LEAK-006", Title: "No server version disclosed", Category: "leaks", Status: scan.StatusWarn, ScoreImpact: -2,
				Message: "The Server header names a version.", Evidence: []string{"Server: nginx/1.18.0"},
				Fix: "Remove version numbers from Server and drop X-Powered-By (nginx: server_tokens off)."},
		},
		HTTPRedirects: []scan.Hop{
			{URL: "http://shop.example.com/", Status: 302, Location: "https://shop.example.com/"},
			{URL: "https://shop.example.com/", Status: 200, HSTS: "max-age=300"},
		},
		HTTPSRedirects: []scan.Hop{
			{URL: "https://shop.example.com/", Status: 200, HSTS: "max-age=300"},
		},
		TLS: &scan.TLSInfo{
			Version:     "TLS 1.3",
			CipherSuite: "TLS_AES_128_GCM_SHA256",
			ALPN:        "h2",
			Versions:    map[string]bool{"SSL 2.0": false, "SSL 3.0": false, "TLS 1.0": true, "TLS 1.1": true, "TLS 1.2": true, "TLS 1.3": true},
			WeakCiphers: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
			Protocols: []scan.ProtocolSupport{
				{Version: "SSL 2.0", Refusal: "connection closed"},
				{Version: "SSL 3.0", Error: "127.0.0.1:443: no completed TLS handshake within 5s"},
				{Version: "TLS 1.0", Offered: true, CipherSuites: []scan.CipherSuite{ecdsaCBC}},
				{Version: "TLS 1.1", Offered: true, CipherSuites: []scan.CipherSuite{ecdsaCBC}},
				{Version: "TLS 1.2", Offered: true, CipherSuites: []scan.CipherSuite{rsaGCM, ecdsaCBC, ecdsaGCM}},
				{Version: "TLS 1.3", Offered: true, CipherSuites: []scan.CipherSuite{aes128, chacha}},
			},
			ForwardSecrecy: "some",
			ChainFacts:     &scan.ChainFacts{Status: "complete", Anchor: "system", NameMatch: true},
			Verified:       true,
			TrustedBy:      "system",
			Chain: []scan.Certificate{
				{
					Subject: "CN=shop.example.com", Issuer: "CN=Example Issuing CA R3,O=Example Trust,C=US",
					DNSNames:  []string{"shop.example.com", "www.shop.example.com"},
					NotBefore: time.Date(2026, 9, 8, 12, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC),
					DaysLeft: 12, KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "SHA256-RSA",
					SHA256: "3f0a5c1d9e7b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d",
				},
				{
					Subject: "CN=Example Issuing CA R3,O=Example Trust,C=US", Issuer: "CN=Example Root X1,O=Example Trust,C=US",
					NotBefore: time.Date(2024, 3, 13, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 3, 12, 23, 59, 59, 0, time.UTC),
					DaysLeft: 472, KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA",
					SHA256: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
				},
			},
		},
	}
}

// perfectResult is a site that does everything right, scored with the
// Observatory's model (so a bonus lifts it above 100).
func perfectResult() *scan.Result {
	return &scan.Result{
		SchemaVersion: 2,
		Tool:          scan.Tool{Name: "httpsguard", Version: "v1.2.3"},
		Target:        "https://secure.example.org:8443/",
		Host:          "secure.example.org",
		URL:           "https://secure.example.org:8443/",
		StartedAt:     fixtureStart.Add(2 * time.Second),
		DurationMS:    640,
		Scoring:       "observatory",
		Score:         115,
		Grade:         "A+",
		Checks: []scan.Check{
			{ID: "HGS-TLS-001", Title: "HTTPS reachable", Category: "tls", Status: scan.StatusPass, Message: "TLS 1.3 handshake succeeded on port 8443."},
			{ID: "HGS-HSTS-001", Title: "HSTS header present", Category: "hsts", Status: scan.StatusPass,
				Result: "hsts-preloaded", Message: "Strict-Transport-Security is sent.", Evidence: []string{"max-age=63072000; includeSubDomains; preload"}},
			{ID: "HGS-HDR-001", Title: "Content-Security-Policy", Category: "headers", Status: scan.StatusPass, ScoreImpact: 10,
				Result: "csp-implemented-with-no-unsafe-default-src-none", Message: "The policy blocks inline script and defaults to 'none'."},
			{ID: "HGS-HDR-006", Title: "Cross-Origin-Resource-Policy", Category: "headers", Status: scan.StatusPass,
				Result: "corp-implemented-with-same-origin", Message: "CORP is same-origin."},
			{ID: "HGS-HDR-008", Title: "Subresource Integrity", Category: "headers", Status: scan.StatusPass, ScoreImpact: 5,
				Result: "sri-implemented-and-external-scripts-loaded-securely", Message: "Every external script carries integrity."},
		},
		HTTPRedirects: []scan.Hop{
			{URL: "http://secure.example.org:8080/", Status: 301, Location: "https://secure.example.org:8443/"},
			{URL: "https://secure.example.org:8443/", Status: 200, HSTS: "max-age=63072000; includeSubDomains; preload"},
		},
		TLS: &scan.TLSInfo{
			Version: "TLS 1.3", CipherSuite: "TLS_CHACHA20_POLY1305_SHA256",
			Versions: map[string]bool{"TLS 1.0": false, "TLS 1.1": false, "TLS 1.2": true, "TLS 1.3": true},
			Protocols: []scan.ProtocolSupport{
				{Version: "SSL 2.0", Refusal: "connection closed"},
				{Version: "SSL 3.0", Refusal: "alert protocol_version"},
				{Version: "TLS 1.0", Refusal: "alert protocol_version"},
				{Version: "TLS 1.1", Refusal: "alert protocol_version"},
				{Version: "TLS 1.2", Offered: true, CipherSuites: []scan.CipherSuite{ecdsaGCM}},
				{Version: "TLS 1.3", Offered: true, CipherSuites: []scan.CipherSuite{aes128, chacha}},
			},
			ForwardSecrecy: "all",
			ChainFacts:     &scan.ChainFacts{Status: "complete", Anchor: "/etc/httpsguard/private-ca.pem", NameMatch: true},
			Verified:       true, TrustedBy: "/etc/httpsguard/private-ca.pem",
			Chain: []scan.Certificate{{
				Subject: "CN=secure.example.org", Issuer: "CN=httpsguard local CA",
				DNSNames: []string{"secure.example.org"}, IPAddresses: []string{"127.0.0.1"},
				NotBefore: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2029, 2, 3, 0, 0, 0, 0, time.UTC),
				DaysLeft: 800, KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256",
				SHA256: "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff",
			}},
		},
	}
}

// failedResult is a target whose page could not be fetched: no grade.
func failedResult() *scan.Result {
	return &scan.Result{
		SchemaVersion: 2,
		Tool:          scan.Tool{Name: "httpsguard", Version: "v1.2.3"},
		Target:        "down.example.net",
		Host:          "down.example.net",
		URL:           "https://down.example.net/",
		StartedAt:     fixtureStart.Add(time.Second),
		DurationMS:    3001,
		Scoring:       "httpsguard",
		Error: &scan.Error{Kind: scan.KindRefused,
			Message: "GET https://down.example.net/: connection refused (nothing listens on down.example.net port 443)",
			Fix:     "Start the web server or load balancer on port 443, or open the port in the firewall; give the right port with --https-port or --http-port if the site uses another."},
	}
}

// Strings a hostile site could put anywhere in a result.
const (
	xssScript  = `<script>alert("pwned")</script>`
	xssAttr    = `"><img src=x onerror=alert(1)>`
	xssJS      = `javascript:alert(document.cookie)`
	termEscape = "\x1b]0;owned\x07\x1b[2J\x1b[31mred"
	bidi       = "evil\u202Egnp.exe"
	mdBreaker  = "a | b ` c ``` d [x](javascript:alert(1)) ![i](http://t.example/p.png) @octocat <b>bold</b>\n# heading"
)

// hostileResult is a result whose every site-controlled string tries to
// break out of its format.
func hostileResult() *scan.Result {
	r := fullResult()
	r.Target = xssJS
	r.Host = `evil.example"><script>alert(2)</script>`
	r.URL = xssJS
	r.Grade = `<b>A</b>`
	r.Error = nil
	r.Checks = append(r.Checks,
		scan.Check{ID: "HGS-LEAK-006", Title: "No server version disclosed", Category: "leaks", Status: scan.StatusFail, ScoreImpact: -30,
			Message:  "The Server header is " + xssScript + " @octocat",
			Evidence: []string{xssScript, xssAttr, xssJS, termEscape, bidi, mdBreaker},
			Fix:      "Fix " + xssAttr,
			Refs:     []string{xssJS, "data:text/html,<script>alert(1)</script>", "https://ok.example/docs"}},
		scan.Check{ID: `"><svg onload=alert(3)>`, Title: xssScript, Category: `"><i>cat`, Status: scan.StatusWarn,
			Message: termEscape, Evidence: []string{"Set-Cookie: " + xssAttr + "=1"}, Error: &scan.Error{Kind: scan.ErrorKind(xssAttr), Message: xssScript}},
		scan.Check{ID: "HGS-X-ERR", Title: "Broken", Category: "leaks", Status: scan.StatusError,
			Error: &scan.Error{Kind: scan.ErrorKind(termEscape), Detail: bidi, Message: xssAttr + termEscape, Fix: mdBreaker}},
	)
	r.HTTPRedirects = []scan.Hop{
		{URL: "http://evil.example/", Status: 301, Location: xssJS},
		{URL: xssJS, Status: 302, Location: "data:text/html," + xssScript, HSTS: xssAttr},
		{URL: "https://evil.example/" + xssScript, Error: termEscape + xssAttr},
	}
	r.TLS.TrustedBy = xssAttr
	r.TLS.VerifyError = xssScript
	r.TLS.Chain[0].Subject = "CN=" + xssScript
	r.TLS.Chain[0].DNSNames = []string{xssAttr, bidi}
	r.TLS.WeakCiphers = []string{xssScript}
	// The TLS facts carry text a server chose: a suite the scanner could
	// not name is shown as what it read, an error as the server's words.
	r.TLS.Protocols = append(slices.Clone(r.TLS.Protocols), scan.ProtocolSupport{
		Version: mdBreaker, Offered: true, Incomplete: xssScript + termEscape,
		CipherSuites: []scan.CipherSuite{{ID: xssAttr, Name: mdBreaker, KeyExchange: xssScript, Encryption: bidi, Strength: "insecure"}},
	}, scan.ProtocolSupport{Version: "TLS 1.4", Error: xssAttr + mdBreaker})
	r.TLS.ChainFacts = &scan.ChainFacts{Status: "incomplete", MissingIssuer: "CN=" + xssScript, MissingIssuerURL: xssJS, WeakSignatures: []string{mdBreaker}}
	return r
}
