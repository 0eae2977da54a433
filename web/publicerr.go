package web

import (
	"log/slog"
	"net/netip"
	"regexp"
	"strings"

	"github.com/httpsguard/httpsguard/internal/publicip"
	"github.com/httpsguard/httpsguard/scan"
)

// Scan results are shown to the public. Their error texts come from the
// resolver and the dialer, and would tell anyone what an internal name
// resolves to ("dial tcp 10.1.2.3:443: ...") and where the server's
// resolver is ("lookup x on 10.0.0.2:53: ..."). publicResult rewrites them:
// a refused address becomes "refused: not a public address", the resolver's
// address is dropped, and any other non-public address is withheld. The
// original texts go to the server log.

// refusedText is what a public error says for an address the scanner
// would not dial.
const refusedText = "refused: not a public address"

var (
	// "lookup NAME on ADDR:53: ..." → "lookup NAME: ..."
	resolverRE = regexp.MustCompile(`(lookup \S+) on (?:\[[^\]]*\]|[^\s:\[]+):\d+`)
	// IPv4 addresses and bracketed IPv6 addresses, with an optional port.
	ipv4RE = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b`)
	ipv6RE = regexp.MustCompile(`\[[0-9A-Fa-f:.%a-zA-Z]+\](?::\d{1,5})?`)
)

// publicText is msg fit for the public.
func publicText(msg string) string {
	if msg == "" {
		return msg
	}
	if strings.Contains(msg, scan.ErrDeniedAddress.Error()) {
		// The scanner's own words name the address; say only what happened,
		// after whatever the message said first about the request.
		if i := strings.Index(msg, "dial "); i > 0 {
			return msg[:i] + refusedText
		}
		return refusedText
	}
	msg = resolverRE.ReplaceAllString(msg, "$1")
	msg = ipv4RE.ReplaceAllStringFunc(msg, withholdPrivate)
	return ipv6RE.ReplaceAllStringFunc(msg, withholdPrivate)
}

// withholdPrivate returns the address literal s itself when it is public,
// and a placeholder otherwise.
func withholdPrivate(s string) string {
	host := s
	if ap, err := netip.ParseAddrPort(s); err == nil {
		host = ap.Addr().String()
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || publicip.IsPublic(ip) {
		return s
	}
	return "[non-public address]"
}

// publicResult returns a copy of res whose error texts are fit for the
// public, and logs the texts it changed.
func publicResult(res *scan.Result, log *slog.Logger) *scan.Result {
	out := *res
	fix := func(s string) string {
		p := publicText(s)
		if p != s {
			log.Info("scan error detail withheld from the public", "detail", s)
		}
		return p
	}
	fixErr := func(e *scan.Error) *scan.Error {
		if e == nil {
			return nil
		}
		c := *e
		c.Message, c.Detail = fix(c.Message), fix(c.Detail)
		if c.Kind == scan.KindDenied {
			// The scanner's fix is advice for its command line.
			c.Message, c.Detail = refusedText, ""
			c.Fix = "Only sites on the public internet can be checked here."
		}
		return &c
	}
	out.Error = fixErr(res.Error)
	out.Checks = make([]scan.Check, len(res.Checks))
	for i, c := range res.Checks {
		c.Error = fixErr(c.Error)
		c.Message = fix(c.Message)
		if c.Status == scan.StatusError || c.Status == scan.StatusFail {
			// Only the reachability check puts a dial error in its
			// evidence; the site's own headers are left as they are.
			ev := make([]string, len(c.Evidence))
			for j, e := range c.Evidence {
				ev[j] = fix(e)
			}
			c.Evidence = ev
		}
		out.Checks[i] = c
	}
	fixHops := func(hops []scan.Hop) []scan.Hop {
		if hops == nil {
			return nil
		}
		h := make([]scan.Hop, len(hops))
		for i, hop := range hops {
			hop.Error = fix(hop.Error)
			h[i] = hop
		}
		return h
	}
	out.HTTPRedirects = fixHops(res.HTTPRedirects)
	out.HTTPSRedirects = fixHops(res.HTTPSRedirects)
	if res.TLS != nil {
		t := *res.TLS
		t.VerifyError = fix(t.VerifyError)
		if t.Protocols != nil {
			// Why a version or its suites could not be probed names
			// the address dialled.
			t.Protocols = make([]scan.ProtocolSupport, len(res.TLS.Protocols))
			for i, p := range res.TLS.Protocols {
				p.Error, p.Refusal, p.Incomplete = fix(p.Error), fix(p.Refusal), fix(p.Incomplete)
				t.Protocols[i] = p
			}
		}
		out.TLS = &t
	}
	return &out
}
